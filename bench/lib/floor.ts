// The raw NATS floor: one publisher connection publishes the same encoded block to one subject at the
// scenario's rate; `subscribers` connections (one per peer) in the same process receive it. Latency of
// message i = the last subscriber's receipt − its publish, on the process clock. Core NATS delivers one
// publisher's messages in order to each subscriber, so the i-th message a subscriber gets is publish i.
import { connect, type NatsConnection } from 'nats';
import { paced, pct, round } from './stats.ts';
import { until } from './nats-network.ts';

export interface FloorResult {
  messages: number;
  subscribers: number;
  floor_p50_ms: number | null;
  floor_p99_ms: number | null;
}

export async function measureFloor(url: string, o: { subscribers: number; rate: number; durationMs: number; payload: Uint8Array }): Promise<FloorResult> {
  const subject = `bench.floor.${process.pid}`;
  const pub = await connect({ servers: url, name: 'bench floor publisher' });
  const subs: NatsConnection[] = [];
  const sentAt: number[] = [];
  const last: { at: number; count: number }[] = [];
  try {
    for (let s = 0; s < o.subscribers; s++) {
      const nc = await connect({ servers: url, name: `bench floor ${s}` });
      subs.push(nc);
      let i = 0;
      nc.subscribe(subject, {
        callback: () => {
          const at = performance.now();
          const e = (last[i] ??= { at, count: 0 });
          e.at = Math.max(e.at, at);
          e.count++;
          i++;
        },
      });
      await nc.flush();
    }
    const n = await paced(o.rate, o.durationMs, (i) => {
      sentAt[i] = performance.now();
      pub.publish(subject, o.payload);
    });
    await pub.flush();
    await until(() => last.length >= n && last.every((e) => e.count === o.subscribers), 30_000, 'the floor messages');
    const lat = sentAt.map((t, i) => last[i]!.at - t);
    return { messages: n, subscribers: o.subscribers, floor_p50_ms: round(pct(lat, 50), 2), floor_p99_ms: round(pct(lat, 99), 2) };
  } finally {
    for (const nc of subs) await nc.close();
    await pub.close();
  }
}
