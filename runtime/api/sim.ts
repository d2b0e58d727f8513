// Public entry `murmur/sim`: the deterministic simulator (whole peers on an in-memory network in simulated time,
// fault sets, invariants) and its harness, for testing a deployment's settings or an embedding program.
export { Harness, DEFAULT_TIMINGS, SIM_EPOCH_MS, type HarnessOptions, type SimPeer } from '../sim/harness.ts';
export { simulate, simulateTwice, formatReport, replayCommand, type SimOptions, type SimReport, type SimViolation } from '../sim/simulator.ts';
export { FAULT_SETS, FAULT_PROFILES, type FaultSet, type FaultProfile } from '../sim/faults.ts';
