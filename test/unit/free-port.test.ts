// freePort hands out ports for processes that bind them later (`murmur up`'s ops ports, nats-server's). A port
// the OS assigned is reused by the next outgoing connection or port-0 bind on the machine, so the picks must come
// from below the kernel's ephemeral range, free at the time, and never twice in one process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { freePort } from '../../runtime/nats-server.ts';

const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

test('ports come from below the ephemeral range, are free, and are not handed out twice', async () => {
  const ports: number[] = [];
  for (let i = 0; i < 50; i++) ports.push(await freePort());
  for (const p of ports) assert.ok(p >= 1024 && p < low, `port ${p} below the ephemeral range (${low})`);
  assert.is(new Set(ports).size, ports.length, 'no port twice');
  // Each can be bound now.
  const servers: Server[] = [];
  try {
    for (const p of ports.slice(0, 5)) servers.push(await new Promise<Server>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(p, '127.0.0.1', () => resolve(s));
    }));
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
});

test.run();
