// Messages between the bench and its orderer process (bench/lib/orderer-child.ts, orderer-process.ts).
export type ChildRequest =
  | { type: 'init'; url: string; prefix: string; genesis: string; secret: string }
  | { type: 'ping' }
  | { type: 'load'; rate: number; ms: number; txBytes: number }
  | { type: 'stop' };
export type ChildReply =
  | { type: 'ready'; height: number }
  | { type: 'pong'; t: number }
  | { type: 'done'; sent: number; appended: number; height: number }
  | { type: 'height'; height: number; pending: number }
  | { type: 'appended'; blocks: [number, number][] }
  | { type: 'error'; message: string };

export const absNow = () => performance.timeOrigin + performance.now();
