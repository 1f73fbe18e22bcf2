import { databaseFromUrl } from './temporal-cluster';

describe('databaseFromUrl', () => {
  it('takes host, port and credentials from a connection string, decoding escaped characters', () => {
    expect(databaseFromUrl('postgres://app%40corp:p%2Fss%3Aw0rd@db.internal:6543/cloudkeep_webhooks')).toEqual({
      host: 'db.internal',
      port: 6543,
      user: 'app@corp',
      password: 'p/ss:w0rd',
    });
  });

  it('defaults to PostgreSQL port 5432', () => {
    expect(databaseFromUrl('postgresql://postgres:postgres@127.0.0.1/app').port).toBe(5432);
  });
});
