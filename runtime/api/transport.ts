// Public entry `murmur/transport`: the port a peer sends and receives through, its NATS implementation and the
// in-memory network (latency, loss, partitions) the tests and the simulator use; the bus subjects.
export type { Transport, Inbound, ConnectionEvent, SendOptions, TransportStats } from '../transport/transport.ts';
export { NatsTransport, type NatsTransportOptions } from '../transport/nats.transport.ts';
export { MemoryNetwork, MemoryTransport, type MemoryNetworkOptions, type LinkConfig, type Latency } from '../transport/memory.transport.ts';
export { subjects, describeSubjects, DEFAULT_PREFIX, type Subjects, type SubjectDescription } from '../transport/subjects.ts';
