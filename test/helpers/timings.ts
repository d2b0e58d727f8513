// Fabric's default timings (ms) as murmur's config schema defines them, for assertions in simulated time.
import { DEFAULT_TIMINGS } from '../../runtime/sim/harness.ts';

export const FABRIC_TIMINGS = DEFAULT_TIMINGS;
