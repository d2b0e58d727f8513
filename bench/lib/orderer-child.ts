// The ordering service of a BenchNetwork in a process of its own (spawned by orderer-process.ts), so the offered
// block rate does not depend on how busy the peers keep the bench process's event loop. It opens (or continues)
// the channel's JetStream stream and cuts the load itself. Times are `performance.timeOrigin + performance.now()`
// (the system clock, sub-ms); the parent maps them to its own clock with an offset measured by pings.
//   parent → {type: 'init', url, prefix, genesis (base64), secret (hex)}      child → {type: 'ready', height}
//   parent → {type: 'ping'}                                                     child → {type: 'pong', t}
//   parent → {type: 'load', rate, ms, txBytes}   (one transaction per block)
//                                           child → {type: 'done', sent, appended (during the load), height}
//   parent → {type: 'stop'}                                                     child exits
//   child → {type: 'height', height, pending} every 50 ms (pending: accepted transactions not yet appended)
//   child → {type: 'appended', blocks: [[number, t], …]} every 20 ms: each block's append, acknowledged by JetStream
import { connect } from 'nats';
import { Orderer } from '../../runtime/orderer/orderer.ts';
import { JetStreamBlockLog } from '../../runtime/orderer/jetstream.log.ts';
import { DeliverService } from '../../runtime/orderer/deliver.service.ts';
import { openGenesis } from '../../runtime/ledger/channel-config.ts';
import { nodeEd25519 } from '../../runtime/crypto/ed25519.ts';
import { realClock } from '../../runtime/clock.ts';
import { fromHex } from '../../runtime/util/bytes.ts';
import { paced, tx } from './stats.ts';
import { absNow, type ChildReply, type ChildRequest } from './orderer-protocol.ts';

const send = (m: ChildReply) => process.send?.(m);
let orderer: Orderer | null = null;
let channel = '';
let seq = 1 << 30;

process.on('message', (m: ChildRequest) => {
  void handle(m).catch((e) => send({ type: 'error', message: (e as Error).message }));
});
process.on('disconnect', () => process.exit(0));

async function handle(m: ChildRequest): Promise<void> {
  if (m.type === 'init') {
    const ed = nodeEd25519();
    const genesis = openGenesis(new Uint8Array(Buffer.from(m.genesis, 'base64')), ed);
    channel = genesis.config.channel;
    const secret = fromHex(m.secret);
    const nc = await connect({ servers: m.url, name: 'bench orderer (child)', noEcho: true });
    orderer = await Orderer.start({
      channels: [genesis],
      log: new JetStreamBlockLog(nc, { prefix: m.prefix }),
      sign: (msg) => ed.sign(secret, msg),
      clock: realClock,
      batchSize: { maxMessageCount: 1, preferredMaxBytes: 1 << 19, absoluteMaxBytes: 1 << 19 },
      batchTimeoutMs: 1000,
      maxPendingBatches: 1_000_000,
    });
    const o = orderer;
    new DeliverService(nc, { prefix: m.prefix, channels: () => [channel] }).start();
    let appended: [number, number][] = [];
    o.blocks$.subscribe(({ block }) => appended.push([block.number, absNow()]));
    setInterval(() => send({ type: 'height', height: o.height(channel) ?? 0, pending: o.stats.accepted - o.stats.txs }), 50).unref();
    setInterval(() => {
      if (!appended.length) return;
      send({ type: 'appended', blocks: appended });
      appended = [];
    }, 20).unref();
    send({ type: 'ready', height: o.height(channel) ?? 0 });
  } else if (m.type === 'ping') {
    send({ type: 'pong', t: absNow() });
  } else if (m.type === 'load') {
    const o = orderer!;
    const h0 = o.height(channel) ?? 0;
    const sent = await paced(m.rate, m.ms, () => void o.submit(channel, tx(seq++, m.txBytes)));
    const height = o.height(channel) ?? 0;
    send({ type: 'done', sent, appended: height - h0, height });
  } else {
    await orderer?.stop(2000);
    process.exit(0);
  }
}
