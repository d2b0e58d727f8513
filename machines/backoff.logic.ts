// Quiet backoff for murmur's repair rounds. In the murmur profile alive messages and StateInfo reach every peer
// by broadcast, and a repair round whose requester already holds what the responder holds goes unanswered. So:
//   a round nobody answered              → the wait before the next one doubles, up to maxFactor × the period
//   an answer, or a sign that views differ (a member joined, died or came back; a new StateInfo; this peer's
//   own height changed)                  → back to the period (StateInfo rounds: a new peer's StateInfo, or a
//   height that changes after a quiet publish interval; heights that keep moving are repaired by their next
//   publication, actors/stateinfo-tracker.ts)
// Liveness never depends on these rounds (heartbeats carry it), so only the repair of a message lost in a quiet
// network waits longer (at most maxFactor periods). Pure: the caller counts rounds and reports answers.
/** Quiet repair rounds wait at most this many periods. */
export const QUIET_BACKOFF_MAX = 8;

export class QuietBackoff {
  private factor = 1;
  private answered = true;

  constructor(private readonly maxFactor: number) {}

  /** A round is about to go out: how long after it the next one should wait (`period` × the current factor). */
  round(period: number): number {
    this.factor = this.answered ? 1 : Math.min(this.maxFactor, this.factor * 2);
    this.answered = false;
    return period * this.factor;
  }

  /** Somebody answered a round, or the views may differ: the next round waits one period. */
  reset(): void {
    this.answered = true;
    this.factor = 1;
  }

  get current(): number {
    return this.factor;
  }
}
