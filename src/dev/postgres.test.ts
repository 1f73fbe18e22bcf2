import { whatWentWrong } from './postgres';

describe('whatWentWrong', () => {
  it('names the cause and the consequence of a failed start, without log prefixes', () => {
    const output = [
      '2026-12-06 06:06:28.160 UTC [26392] LOG:  starting PostgreSQL 18.0 on x86_64-pc-linux-gnu',
      '2026-12-06 06:06:28.167 UTC [26392] LOG:  could not bind IPv4 address "127.0.0.1": Address already in use',
      '2026-12-06 06:06:28.167 UTC [26392] HINT:  Is another postmaster already running on port 39063?',
      '2026-12-06 06:06:28.167 UTC [26392] WARNING:  could not create listen socket for "127.0.0.1"',
      '2026-12-06 06:06:28.168 UTC [26392] FATAL:  could not create any TCP/IP sockets',
      '2026-12-06 06:06:28.170 UTC [26392] LOG:  database system is shut down',
      '',
    ].join('\n');
    expect(whatWentWrong(output)).toBe('could not bind IPv4 address "127.0.0.1": Address already in use; could not create any TCP/IP sockets');
  });

  it('says a single complaint once, and the last line when nothing complains', () => {
    expect(whatWentWrong('initdb: error: directory "/x" exists but is not empty\n')).toBe('initdb: error: directory "/x" exists but is not empty');
    expect(whatWentWrong('some output\nthe last line\n')).toBe('the last line');
    expect(whatWentWrong('')).toBe('no output');
  });
});
