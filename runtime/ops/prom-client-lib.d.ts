// prom-client ships types for its index only; runtime/ops/prom.ts imports these files and gives them the index's types.
declare module 'prom-client/lib/counter.js' {
  const impl: unknown;
  export default impl;
}
declare module 'prom-client/lib/gauge.js' {
  const impl: unknown;
  export default impl;
}
declare module 'prom-client/lib/histogram.js' {
  const impl: unknown;
  export default impl;
}
declare module 'prom-client/lib/registry.js' {
  const impl: unknown;
  export default impl;
}
