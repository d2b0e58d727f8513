// prom-client's four classes murmur uses, imported from their own files. prom-client's index also loads its
// cluster aggregator, push gateway and default metrics (node:cluster, https, perf_hooks, v8 and their
// modules' top level): a tenth of a peer process's start, for nothing a peer or the orderer uses.
import type * as Prom from 'prom-client';
import CounterImpl from 'prom-client/lib/counter.js';
import GaugeImpl from 'prom-client/lib/gauge.js';
import HistogramImpl from 'prom-client/lib/histogram.js';
import RegistryImpl from 'prom-client/lib/registry.js';

export const Registry = RegistryImpl as typeof Prom.Registry;
export type Registry = Prom.Registry;
export const Counter = CounterImpl as typeof Prom.Counter;
export type Counter<T extends string = string> = Prom.Counter<T>;
export const Gauge = GaugeImpl as typeof Prom.Gauge;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export const Histogram = HistogramImpl as typeof Prom.Histogram;
export type Histogram<T extends string = string> = Prom.Histogram<T>;
