// Messages between a BenchNetwork spread over threads (bench/lib/peer-threads.ts, the main thread's side) and
// each of its peer threads (bench/lib/peer-thread.ts). Times are `performance.timeOrigin + performance.now()`
// (one clock for every thread of the process); the main thread maps them to its own performance.now().
//   main → {type: 'start', options, ids}            thread → {type: 'started'}
//   thread → {type: 'report', …} every REPORT_MS: heights, counts and commits since the last report; every
//            STATUS_EVERY-th report (and the one answering 'refresh') also roles, members, drops, rejections
//   main → {type: 'refresh', seq}                   thread → a full report with that seq
//   main → {type: 'profile-start', intervalUs}      thread → {type: 'profiling'}
//   main → {type: 'profile-stop'}                   thread → {type: 'profile', profile}
//   main → {type: 'stop'}                           thread → {type: 'stopped'} and exits
import type { BenchNetworkOptions, PeerCounts } from './nats-network.ts';
import type { CpuProfile } from './cpu-profile.ts';

export const REPORT_MS = 25;
export const STATUS_EVERY = 20;

/** What a peer thread rebuilds its share of the network from (functions do not cross threads). */
export type ThreadNetworkOptions = Omit<BenchNetworkOptions, 'deferred' | 'preload' | 'orderer' | 'threads'> & { prefix: string };

export interface PeerStatusReport {
  role: string | null;
  leaderId: string | null;
  alive: string[];
  dropped: Record<string, number>;
  rejected: Record<string, number>;
}

export interface ThreadReport {
  type: 'report';
  /** The 'refresh' this report answers (0: a periodic one). */
  seq: number;
  heights: Record<string, number>;
  counts: Record<string, PeerCounts>;
  /** [peer id, block number, absolute ms] of every commit since the last report. */
  commits: [string, number, number][];
  status: Record<string, PeerStatusReport> | null;
  /** The thread's event loop so far (performance.eventLoopUtilization) and its own CPU (µs, /proc/thread-self). */
  loop: { idle: number; active: number };
  cpuUs: number | null;
}

export type ToThread =
  | { type: 'start'; options: ThreadNetworkOptions; ids: string[] }
  | { type: 'refresh'; seq: number }
  | { type: 'profile-start'; intervalUs: number }
  | { type: 'profile-stop' }
  | { type: 'stop' };

export type FromThread = { type: 'started' } | ThreadReport | { type: 'profiling' } | { type: 'profile'; profile: CpuProfile } | { type: 'stopped' } | { type: 'error'; message: string };
