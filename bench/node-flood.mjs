// The flood a TypeScript user writes first: plain net.connect, a loop keeping INFLIGHT connects in flight.
// Runs inside a lab client container with the host's node binary bind-mounted read-only (see makeRig in bench/fills.ts).
// usage: node node-flood.mjs IP:PORT[,IP:PORT...] COUNT INFLIGHT DEADLINE_S [HOLD_S]
import net from 'node:net';

const [targetList, countText, inflightText, deadlineText, holdText = '0'] = process.argv.slice(2);
const targets = targetList.split(',').map((t) => ({ host: t.slice(0, t.lastIndexOf(':')), port: Number(t.slice(t.lastIndexOf(':') + 1)) }));
const count = Number(countText);
const inflightMax = Number(inflightText);
const held = [];
let asked = 0;
let inflight = 0;
let established = 0;
let failed = 0;
let done = false;
// Bounded whatever happens.
setTimeout(() => process.exit(3), (Number(deadlineText) + Number(holdText)) * 1000).unref();
const t0 = performance.now();

function pump() {
  while (asked < count && inflight < inflightMax) {
    const target = targets[asked % targets.length];
    asked++;
    inflight++;
    const socket = net.connect(target);
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      inflight--;
      established++;
      held.push(socket);
      pump();
    });
    socket.on('error', () => {
      if (connected) return; // a held connection reset later: not a failed connect
      inflight--;
      failed++;
      pump();
    });
  }
  if (!done && inflight === 0) {
    done = true;
    console.log(JSON.stringify({ type: 'done', established, failed, elapsed_ms: Math.round((performance.now() - t0) * 10) / 10 }));
    setTimeout(() => process.exit(0), Number(holdText) * 1000);
  }
}
pump();
