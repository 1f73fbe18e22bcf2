import { createHash, randomBytes } from 'node:crypto';

export type TokenKind = 'admin' | 'service';
const PREFIX: Record<TokenKind, string> = { admin: 'ck_admin_', service: 'ck_svc_' };

export function generateToken(kind: TokenKind): string {
  return PREFIX[kind] + randomBytes(32).toString('base64url');
}

/** Tokens carry 256 random bits, so SHA-256 is a safe, constant-cost hash for lookup. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** What may be shown of a token later: its kind and first characters. */
export function tokenPrefix(token: string): string {
  return token.slice(0, token.indexOf('_', 3) + 5);
}
