import { Stops } from './stops';

describe('Stops', () => {
  it('stops parts in reverse start order and carries on past a failing step', async () => {
    const stopped: string[] = [];
    const logged: string[] = [];
    const stops = new Stops((line) => logged.push(line));
    stops.push(async () => void stopped.push('postgres'));
    stops.push(async () => {
      throw new Error('server already gone');
    });
    stops.push(async () => void stopped.push('worker'));
    await stops.run();
    expect(stopped).toEqual(['worker', 'postgres']);
    expect(logged).toEqual(['shutdown step failed: server already gone']);
  });

  it('makes start-up give up at its next step once stopping was asked for', () => {
    const stops = new Stops(() => undefined);
    expect(() => stops.checkpoint()).not.toThrow();
    stops.requested = true;
    expect(() => stops.checkpoint()).toThrow('stopped while starting');
  });
});
