import { expect } from 'chai';
import { Turns } from '../../lab/run/turns.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("the matrix's turns on the machine", () => {
  it('lets shared runs go together and a timed run only alone, first come first served', async () => {
    const turns = new Turns();
    const log: string[] = [];
    const run = async (name: string, exclusive: boolean) => {
      await turns.enter(exclusive);
      log.push(`+${name}`);
      return () => {
        log.push(`-${name}`);
        turns.leave(exclusive);
      };
    };
    const a = await run('a', false);
    const b = await run('b', false);
    const timed = run('timed', true);
    const c = run('c', false);
    await tick();
    expect(log).to.deep.equal(['+a', '+b']);
    a();
    await tick();
    expect(log).to.deep.equal(['+a', '+b', '-a']);
    b();
    const endTimed = await timed;
    await tick();
    expect(log).to.deep.equal(['+a', '+b', '-a', '-b', '+timed']);
    endTimed();
    (await c)();
    expect(log).to.deep.equal(['+a', '+b', '-a', '-b', '+timed', '-timed', '+c', '-c']);
  });
});
