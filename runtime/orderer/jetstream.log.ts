// The orderer's BlockLog on JetStream: stream `blockStream(channel)` captures subject `blocks(channel)`;
// block N is stream sequence N+1. An append publishes with expect.lastSequence = N (the server refuses it
// unless the stream holds exactly N messages) and msgID `<channel>:<N>` (a retried publish whose first
// attempt did land is answered as a duplicate instead of stored twice).
// The stream is file-backed, unlimited, and refuses deletes and purges: it is the channel's ledger of record.
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { blockHash, decodeBlock, encodeBlock, type Block } from '../ledger/block.ts';
import type { Genesis } from '../ledger/channel-config.ts';
import { subjects as subjectsOf, type Subjects } from '../transport/subjects.ts';
import { bytesEqual } from '../util/bytes.ts';
import { OrdererError, type AppendResult, type BlockLog } from './log.ts';

/** JetStream's "wrong last sequence" API error. */
export const JS_WRONG_LAST_SEQUENCE = 10071;
const JS_STREAM_NOT_FOUND = 10059;

export const msgIdOf = (channel: string, n: number): string => `${channel}:${n}`;

export function isWrongLastSequence(err: unknown): boolean {
  return (err as { api_error?: { err_code?: number } })?.api_error?.err_code === JS_WRONG_LAST_SEQUENCE;
}
function isStreamNotFound(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === JS_STREAM_NOT_FOUND || /stream not found/i.test(e?.message ?? '');
}

export interface JetStreamLogOptions {
  prefix?: string;
  /** Publish ack timeout; ms (default 5000). */
  timeoutMs?: number;
  /** Replicas of a stream this log creates (3 on a 3-server cluster); default 1. */
  replicas?: number;
  /** How long `ensure` keeps retrying while JetStream is not ready (a new cluster electing its meta leader); ms. */
  readyTimeoutMs?: number;
}

export class JetStreamBlockLog implements BlockLog {
  private readonly subjects: Subjects;
  private readonly js: JetStreamClient;
  private jsmP: Promise<JetStreamManager> | null = null;

  constructor(
    private readonly nc: NatsConnection,
    private readonly o: JetStreamLogOptions = {},
  ) {
    this.subjects = subjectsOf(o.prefix);
    this.js = nc.jetstream({ timeout: o.timeoutMs ?? 5000 });
  }

  private jsm(): Promise<JetStreamManager> {
    this.jsmP ??= this.nc.jetstreamManager({ timeout: this.o.timeoutMs ?? 5000 }).catch((e) => {
      this.jsmP = null;
      throw e;
    });
    return this.jsmP;
  }

  /** Opens or creates the channel's stream, retrying while JetStream is not ready yet (a fresh cluster). */
  async ensure(genesis: Genesis): Promise<void> {
    const deadline = Date.now() + (this.o.readyTimeoutMs ?? 30_000);
    for (;;) {
      try {
        return await this.ensureOnce(genesis);
      } catch (e) {
        if (e instanceof OrdererError || Date.now() > deadline) throw e;
        this.jsmP = null;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  private async ensureOnce(genesis: Genesis): Promise<void> {
    const channel = genesis.config.channel;
    const name = this.subjects.blockStream(channel);
    const subject = this.subjects.blocks(channel);
    const jsm = await this.jsm();
    let info;
    try {
      info = await jsm.streams.info(name);
    } catch (e) {
      if (!isStreamNotFound(e)) throw e;
      try {
        info = await jsm.streams.add({
          name,
          subjects: [subject],
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
          discard: DiscardPolicy.New,
          max_msgs: -1,
          max_bytes: -1,
          max_age: 0,
          num_replicas: this.o.replicas ?? 1,
          deny_delete: true,
          deny_purge: true,
        });
      } catch (e2) {
        // Another orderer created it meanwhile.
        info = await jsm.streams.info(name).catch(() => {
          throw e2;
        });
      }
    }
    if (!info.config.subjects?.includes(subject))
      throw new OrdererError(`stream ${name} exists but does not capture ${subject} (it captures ${info.config.subjects?.join(', ')})`);
    if (info.state.last_seq === 0) {
      const r = await this.append(channel, genesis.block, encodeBlock(genesis.block));
      if (!r.ok) {
        // Someone else wrote block 0 first; checked below like any existing stream.
      }
    } else if (info.state.first_seq !== 1) {
      throw new OrdererError(`stream ${name} starts at sequence ${info.state.first_seq}: blocks were removed`);
    }
    const b0 = await this.read(channel, 1);
    if (!b0 || !bytesEqual(blockHash(b0), blockHash(genesis.block)))
      throw new OrdererError(`stream ${name} holds another chain: its first block is not this channel's genesis block`);
  }

  async tip(channel: string): Promise<Block> {
    const jsm = await this.jsm();
    const m = await jsm.streams.getMessage(this.subjects.blockStream(channel), { last_by_subj: this.subjects.blocks(channel) });
    const b = decodeBlock(m.data);
    if (!b) throw new OrdererError(`${channel}: the last message of the stream (sequence ${m.seq}) is not a block`);
    if (b.number !== m.seq - 1) throw new OrdererError(`${channel}: block ${b.number} sits at stream sequence ${m.seq} (expected ${b.number + 1})`);
    return b;
  }

  async append(channel: string, block: Block, encoded: Uint8Array): Promise<AppendResult> {
    const n = block.number;
    let ack;
    try {
      ack = await this.js.publish(this.subjects.blocks(channel), encoded, { msgID: msgIdOf(channel, n), expect: { lastSequence: n } });
    } catch (e) {
      if (isWrongLastSequence(e)) return { ok: false, reason: 'conflict' };
      throw e;
    }
    if (ack.duplicate) {
      // Block N was stored before under the same msg id: ours (a retry) or another orderer's.
      const stored = await this.read(channel, n + 1);
      return stored && bytesEqual(blockHash(stored), blockHash(block)) ? { ok: true } : { ok: false, reason: 'conflict' };
    }
    if (ack.seq !== n + 1) throw new OrdererError(`${channel}: block ${n} stored at sequence ${ack.seq} (expected ${n + 1})`);
    return { ok: true };
  }

  /** Whether the server answers for the channel's stream (the orderer's /healthz). */
  async reachable(channel: string): Promise<boolean> {
    try {
      const jsm = await this.jsm();
      await jsm.streams.info(this.subjects.blockStream(channel));
      return true;
    } catch {
      return false;
    }
  }

  private async read(channel: string, seq: number): Promise<Block | null> {
    const jsm = await this.jsm();
    try {
      const m = await jsm.streams.getMessage(this.subjects.blockStream(channel), { seq });
      return decodeBlock(m.data);
    } catch {
      return null;
    }
  }
}
