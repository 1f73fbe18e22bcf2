/**
 * What Slack and Discord messages show of an event, read field by field from its (metadata-only) data.
 * Only named fields are read, so nothing unexpected in `data` can ever reach a message.
 */
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads one known string field; anything else counts as absent. */
function str(obj: unknown, key: string): string | undefined {
  const v = isRecord(obj) ? obj[key] : undefined;
  return typeof v === 'string' && v !== '' ? v : undefined;
}

const who = (person: unknown): string | undefined => str(person, 'name') ?? str(person, 'email') ?? str(person, 'id');

export interface EventFields {
  vaultId?: string;
  vaultName?: string;
  secretKey?: string;
  secretType?: string;
  memberName?: string;
  memberRole?: string;
  actor?: string;
  /** ping only */
  message?: string;
  webhookId?: string;
}

export function readEventFields(data: Record<string, unknown>): EventFields {
  const member = isRecord(data.member) ? data.member : undefined;
  return {
    vaultId: str(data, 'vaultId'),
    vaultName: str(data, 'vaultName'),
    secretKey: str(data, 'secretKey'),
    secretType: str(data, 'type'),
    memberName: who(member),
    memberRole: str(member, 'role'),
    actor: who(data.actor),
    message: str(data, 'message'),
    webhookId: str(data, 'webhookId'),
  };
}

/**
 * Escapes `raw` character by character and fits it in `max` characters with an ellipsis. Truncation walks
 * code points, so it never splits an escape sequence (which escaping can make several characters long) or
 * a surrogate pair.
 */
export function fitEscaped(raw: string, max: number, escape: (ch: string) => string): string {
  const pieces = [...raw].map(escape);
  const whole = pieces.join('');
  if (whole.length <= max) return whole;
  let out = '';
  for (const piece of pieces) {
    if (out.length + piece.length > max - 1) break;
    out += piece;
  }
  return `${out}…`;
}
