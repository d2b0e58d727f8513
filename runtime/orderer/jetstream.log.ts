// The orderer's BlockLog on JetStream: stream `blockStream(channel)` captures subject `blocks(channel)`.
// The chain is the stream read with the chain rule (chain-entry.ts): after block N, the next block is the first
// later entry that is a block of this channel numbered N+1, linked to N and signed by the orderer; every other
// entry (garbage, JSON, another channel's block, a replay, a forgery: anyone may publish there on a server
// without authorization) is skipped. So block N sits at some stream sequence ≥ N+1, and the log remembers the
// sequence of its tip and the stream's last sequence:
//   append(N) publishes with expect.lastSequence = the last sequence it has read; refused (something landed) →
//     read the new entries: a block N of the chain among them → conflict (another orderer: rebuild on it);
//     only foreign entries → retry after them. Never a fork, never the same number twice.
//   msgID `<channel>:<N>:<hash prefix>`: a retried publish whose first attempt landed is a duplicate, and nobody
//     can take a future block's id ahead of it (its hash is unknown until it is built).
//   on open, the tip is the highest-numbered valid block among the last TIP_WINDOW entries (replays repeat old
//     numbers; more than TIP_WINDOW foreign entries after the tip while no orderer ran is the documented limit).
// The stream is file-backed, unlimited, and refuses deletes and purges: it is the channel's ledger of record.
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { blockHash, decodeBlock, encodeBlock, verifyBlock, type Block } from '../ledger/block.ts';
import { nodeEd25519, type Ed25519 } from '../crypto/ed25519.ts';
import type { Genesis } from '../ledger/channel-config.ts';
import { subjects as subjectsOf, type Subjects } from '../transport/subjects.ts';
import { bytesEqual } from '../util/bytes.ts';
import { OrdererError, type AppendResult, type BlockLog } from './block-log.ts';

/** JetStream's "wrong last sequence" API error. */
export const JS_WRONG_LAST_SEQUENCE = 10071;
const JS_STREAM_NOT_FOUND = 10059;

export const msgIdOf = (channel: string, n: number, hash: Uint8Array): string => `${channel}:${n}:${Buffer.from(hash.subarray(0, 8)).toString('hex')}`;

/** How far back from the stream's end `tip` looks for the chain's last block when it opens. */
export const TIP_WINDOW = 4096;

interface Head {
  tip: Block;
  /** Stream sequence of the tip. */
  tipSeq: number;
  /** Last stream sequence read (≥ tipSeq): entries in between are not blocks of the chain. */
  lastSeq: number;
  /** Hashes (hex) of the chain's latest blocks by number: a retried append of a block that did land is `ok`. */
  recent: Map<number, string>;
}

const RECENT = 64;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function advance(head: Head, b: Block, seq: number): void {
  head.tip = b;
  head.tipSeq = seq;
  head.recent.set(b.number, hex(blockHash(b)));
  head.recent.delete(b.number - RECENT);
}

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
  /** Checks the orderer signature of entries read back (default: node's ed25519). */
  ed?: Ed25519;
}

export class JetStreamBlockLog implements BlockLog {
  private readonly subjects: Subjects;
  private readonly js: JetStreamClient;
  private jsmP: Promise<JetStreamManager> | null = null;
  private readonly heads = new Map<string, Head>();
  private readonly keys = new Map<string, Uint8Array>();
  /** Foreign stream entries skipped, by reason (the orderer's /metrics). */
  readonly skipped: Record<string, number> = {};

  private readonly ed: Ed25519;

  constructor(
    private readonly nc: NatsConnection,
    private readonly o: JetStreamLogOptions = {},
  ) {
    this.ed = o.ed ?? nodeEd25519();
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
    this.keys.set(channel, genesis.ordererPublicKey);
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
      try {
        await this.js.publish(subject, encodeBlock(genesis.block), { msgID: msgIdOf(channel, 0, blockHash(genesis.block)), expect: { lastSequence: 0 } });
      } catch (e) {
        // Someone else wrote first; checked below like any existing stream.
        if (!isWrongLastSequence(e)) throw e;
      }
    } else if (info.state.first_seq !== 1) {
      throw new OrdererError(`stream ${name} starts at sequence ${info.state.first_seq}: blocks were removed`);
    }
    const b0 = await this.read(channel, 1);
    if (!b0 || !bytesEqual(blockHash(b0), blockHash(genesis.block)))
      throw new OrdererError(`stream ${name} holds another chain: its first block is not this channel's genesis block`);
  }

  /** The chain's last block: read once from the stream's end, then followed through this log's appends (and
   * whatever it reads when an append is refused). */
  async tip(channel: string): Promise<Block> {
    const known = this.heads.get(channel);
    if (known) {
      // Called after a conflict: catch up with what landed since.
      await this.follow(channel, known);
      return known.tip;
    }
    const jsm = await this.jsm();
    const last = (await jsm.streams.info(this.subjects.blockStream(channel))).state.last_seq;
    let best: { block: Block; seq: number } | null = null;
    let legacy: { block: Block; seq: number } | null = null;
    for (let seq = last; seq >= 1 && seq > last - TIP_WINDOW; seq--) {
      const b = await this.read(channel, seq);
      if (!b) {
        this.skip('garbage');
        continue;
      }
      const why = this.foreign(channel, b);
      if (why) {
        this.skip(why);
        continue;
      }
      // v1 blocks (no channel in the signed header, written before v2) only count in a stream with no v2 block
      // in the window: a v1 block of another channel would verify here too.
      if (b.number > 0 && b.channel === undefined) {
        if (!legacy || b.number > legacy.block.number) legacy = { block: b, seq };
      } else if (!best || b.number > best.block.number) best = { block: b, seq };
      if (b.number === 0) break;
    }
    if (!best || (best.block.number === 0 && legacy)) best = legacy ?? best;
    if (!best) throw new OrdererError(`${channel}: no block of this chain among the last ${TIP_WINDOW} entries of the stream`);
    const head: Head = { tip: best.block, tipSeq: best.seq, lastSeq: last, recent: new Map() };
    advance(head, best.block, best.seq);
    this.heads.set(channel, head);
    return best.block;
  }

  async append(channel: string, block: Block, encoded: Uint8Array): Promise<AppendResult> {
    const head = this.heads.get(channel) ?? (await this.tip(channel), this.heads.get(channel)!);
    const n = block.number;
    // Block n is in the chain already: this very block (a retry whose first attempt landed) or another's.
    if (n <= head.tip.number) return head.recent.get(n) === hex(blockHash(block)) ? { ok: true } : { ok: false, reason: 'conflict' };
    if (n !== head.tip.number + 1) return { ok: false, reason: 'conflict' };
    let ack;
    try {
      ack = await this.js.publish(this.subjects.blocks(channel), encoded, { msgID: msgIdOf(channel, n, blockHash(block)), expect: { lastSequence: head.lastSeq } });
    } catch (e) {
      if (!isWrongLastSequence(e)) throw e;
      // Something landed after what we read: another orderer's block N (a conflict) or foreign entries (skip them).
      await this.follow(channel, head);
      return this.append(channel, block, encoded);
    }
    if (ack.duplicate) {
      // Stored before under this msg id, which names the block's hash: ours, from a retried publish.
      const stored = await this.read(channel, ack.seq);
      if (!stored || !bytesEqual(blockHash(stored), blockHash(block))) return { ok: false, reason: 'conflict' };
    }
    advance(head, block, ack.seq);
    head.lastSeq = Math.max(head.lastSeq, ack.seq);
    return { ok: true };
  }

  /** Appends consecutive blocks pipelined (a bulk load: the benchmarks' preload): the i-th publish expects the
   * sequence the (i-1)-th takes, so they all land in order or are refused; from the first refused one on, the
   * rest go through append() one by one (which reads what landed). `conflict` as soon as one conflicts. */
  async appendRun(channel: string, blocks: { block: Block; encoded: Uint8Array }[]): Promise<AppendResult> {
    if (blocks.length === 0) return { ok: true };
    const head = this.heads.get(channel) ?? (await this.tip(channel), this.heads.get(channel)!);
    if (blocks[0]!.block.number !== head.tip.number + 1) return this.append(channel, blocks[0]!.block, blocks[0]!.encoded);
    const base = head.lastSeq;
    const subject = this.subjects.blocks(channel);
    const acks = await Promise.allSettled(
      blocks.map(({ block, encoded }, i) => this.js.publish(subject, encoded, { msgID: msgIdOf(channel, block.number, blockHash(block)), expect: { lastSequence: base + i } })),
    );
    let i = 0;
    for (; i < blocks.length; i++) {
      const a = acks[i]!;
      if (a.status !== 'fulfilled' || a.value.duplicate || a.value.seq !== base + i + 1) break;
      advance(head, blocks[i]!.block, a.value.seq);
      head.lastSeq = a.value.seq;
    }
    for (; i < blocks.length; i++) {
      const r = await this.append(channel, blocks[i]!.block, blocks[i]!.encoded);
      if (!r.ok) return r;
    }
    return { ok: true };
  }

  /** Reads the entries after `head.lastSeq`, moving the tip along the chain rule and skipping the rest. */
  private async follow(channel: string, head: Head): Promise<void> {
    const jsm = await this.jsm();
    const last = (await jsm.streams.info(this.subjects.blockStream(channel))).state.last_seq;
    for (let seq = head.lastSeq + 1; seq <= last; seq++) {
      const b = await this.read(channel, seq);
      const why = !b ? 'garbage' : this.foreign(channel, b) ?? (b.number !== head.tip.number + 1 ? 'out-of-order' : !bytesEqual(b.previousHash, blockHash(head.tip)) ? 'bad-previous-hash' : null);
      if (why) this.skip(why);
      else advance(head, b!, seq);
      head.lastSeq = seq;
    }
  }

  /** Why `b` cannot be a block of this channel's chain (ignoring its position), or null. */
  private foreign(channel: string, b: Block): string | null {
    const key = this.keys.get(channel);
    // A v1 block names no channel: it passes here, and the chain rule's link check decides.
    if (b.number > 0 && b.channel !== undefined && b.channel !== channel) return 'foreign-channel';
    if (!key) return null;
    const v = verifyBlock(b, key, this.ed);
    return v.ok ? null : v.reason;
  }

  private skip(reason: string): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
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
