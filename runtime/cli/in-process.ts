// `murmur up --in-process`: every peer in the `up` process itself, for scale on one machine (one Node heap
// and event loop instead of one per peer). Each peer is still built from its own core.yaml exactly as
// `murmur peer start` builds it (launchPeer): its own NATS connection, lmdb ledger, signer, verify cache,
// prom-client registry and ops server on its own loopback port, and its JSON log in its own peer.log. Only
// the pid is shared (network.json and `murmur status` report this process's pid for every peer), and so is
// the cache of verified envelopes (WireCodec): an alive message published to an org of ten peers is verified
// once instead of ten times (signature checks are most of the CPU of a large network).
// The orderer stays a child process (see up.ts): one process whatever the scale, and its BatchTimeout is not
// delayed by the peers' load on this event loop.
import pino from 'pino';
import { createLogs } from '../log.ts';
import { Lru } from '../util/lru.ts';
import type { StatusRow } from '../../actors/status-row.ts';
import { launchPeer, type LaunchedPeer } from './peer-start.ts';

export interface InProcessPeer {
  id: string;
  configFile: string;
  logFile: string;
}

interface Hosted {
  peer: LaunchedPeer;
  dest: ReturnType<typeof pino.destination>;
  log: (line: string) => void;
}

/** Entries of the shared verified-envelope cache (a digest each, ≈ 150 bytes). */
const SHARED_VERIFY_CACHE = 65_536;

export class InProcessPeers {
  private readonly hosted = new Map<string, Hosted>();
  private readonly verifiedCache = new Lru<string, true>(SHARED_VERIFY_CACHE);

  constructor(private readonly o: { env: NodeJS.ProcessEnv; inspect?: boolean; say: (line: string) => void }) {}

  get size(): number {
    return this.hosted.size;
  }

  /** Starts one peer from its core.yaml; resolves once it runs (NATS connected, channels open). */
  async start(p: InProcessPeer): Promise<{ opsUrl: string | null; inspectorUrl: string | null }> {
    // Asynchronous writes: many peers share this event loop; stop() flushes them.
    const dest = pino.destination({ dest: p.logFile, append: true, sync: false, mkdir: true });
    // `self` names the peer a line comes from (the `peer` field is taken: discovery logs the member's id).
    const logs = createLogs({ env: this.o.env, base: { pid: process.pid, self: p.id }, destination: dest });
    const main = logs.module('peer');
    let peer: LaunchedPeer;
    try {
      peer = await launchPeer({ file: p.configFile, env: this.o.env, logs, log: (line) => main.info(line), inspect: this.o.inspect, verifiedCache: this.verifiedCache });
    } catch (e) {
      main.error((e as Error).message);
      await closeDestination(dest);
      throw new Error(`peer ${p.id}: ${(e as Error).message} (see ${p.logFile})`, { cause: e });
    }
    this.hosted.set(p.id, { peer, dest, log: (line) => main.info(line) });
    return { opsUrl: peer.running.opsUrl, inspectorUrl: peer.inspectorUrl };
  }

  /** Every hosted peer's status rows, read directly (the same rows each answers `murmur status` with). */
  status(): StatusRow[] {
    const rows = [...this.hosted.values()].flatMap((h) => h.peer.running.peer.status());
    return rows.sort((a, b) => a.channel.localeCompare(b.channel) || a.org.localeCompare(b.org) || a.id.localeCompare(b.id, undefined, { numeric: true }));
  }

  /** Stops every peer at once (actors stopped, NATS drained, ledgers closed), each within `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<void> {
    await Promise.all(
      [...this.hosted].map(async ([id, h]) => {
        h.log('up is stopping: stopping');
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
        const r = await Promise.race([h.peer.stop().then(() => 'stopped' as const, (e: Error) => e), late]);
        clearTimeout(timer);
        if (r === 'late') this.o.say(`peer ${id} did not stop within ${timeoutMs} ms`);
        else if (r instanceof Error) this.o.say(`peer ${id} stopped with an error: ${r.message}`);
        else h.log('stopped');
        await closeDestination(h.dest);
      }),
    );
    this.hosted.clear();
  }
}

/** Flushes and closes a log file (bounded: a stuck file never holds up the stop). */
function closeDestination(dest: ReturnType<typeof pino.destination>): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    dest.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    dest.once('error', () => {
      clearTimeout(timer);
      resolve();
    });
    dest.end();
  });
}
