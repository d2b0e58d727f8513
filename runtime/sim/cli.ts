// `npm run sim` and `npm run sim:soak` (contract: ../shared/notes/contract.md).
//   sim  --orgs N --peers N --blocks N --seed S [--faults none|default|heavy|byzantine] [--profile murmur|fabric]
//        [--json] [--channels N] [--signer sim|real] [--safety SECONDS] [--check-determinism] [--verbose]
//        exit 0: every invariant held; 1: a violation (its name, simulated time and replay command printed);
//        2: bad usage
//   soak --seeds N [--from S] [--faults F|all] [--profile P|both] [--orgs N] [--peers N] [--blocks N] [--channels N]
//        [--safety SECONDS] [--json]
//        runs seeds S … S+N-1 (fault sets and profiles cycle over the seeds when `all` / `both`), prints every
//        failure with its replay command; exit 1 when any failed
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { FAULT_SETS, type FaultSet } from './faults.ts';
import { formatReport, simulate, simulateTwice, type SimOptions, type SimReport } from './simulator.ts';

const count = (name: string, min = 1) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
  return n;
};
const seconds = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number of seconds >= 0');
  return n * 1000;
};

interface SimFlags {
  orgs: number;
  peers: number;
  blocks: number;
  seed: string;
  faults: FaultSet;
  profile: 'murmur' | 'fabric';
  channels: number;
  signer?: 'sim' | 'real';
  safety?: number;
  json?: boolean;
  checkDeterminism?: boolean;
  verbose?: boolean;
  plant?: 'ledger-fork';
}

function reportJson(r: SimReport) {
  return { ok: r.ok, violation: r.violation, replay: r.replay, digest: r.digest, deterministic: r.deterministic ?? null, wallMs: Math.round(r.wallMs), summary: r.summary };
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program.name('sim').exitOverride().showHelpAfterError().configureOutput({ writeErr: (s) => process.stderr.write(s) });
  let code = 0;

  program
    .command('run', { isDefault: true })
    .description('simulate a whole network from one seed; exit 0 when every invariant held, 1 on a violation, 2 on bad usage')
    .requiredOption('--orgs <n>', 'organizations', count('--orgs'))
    .requiredOption('--peers <n>', 'peers per organization', count('--peers'))
    .requiredOption('--blocks <n>', 'blocks the orderer cuts during the safety phase', count('--blocks', 0))
    .requiredOption('--seed <s>', 'the seed every knob of the run is drawn from')
    .addOption(new Option('--faults <set>', 'fault set').choices(FAULT_SETS).default('default'))
    .addOption(new Option('--profile <p>', 'peer profile').choices(['murmur', 'fabric']).default('murmur'))
    .option('--channels <n>', 'channels', count('--channels'), 1)
    .addOption(new Option('--signer <s>', 'signing port (default: sim, real ed25519 for byzantine)').choices(['sim', 'real']))
    .option('--safety <seconds>', 'shortest safety phase in simulated seconds (default 60)', seconds)
    .option('--check-determinism', 'run twice and require the same trace digest')
    .option('--json', 'print the report as JSON')
    .option('--verbose', 'print every fault and phase change as it happens')
    .addOption(new Option('--plant <bug>', 'self-test: plant a violation the checker must catch').choices(['ledger-fork']).hideHelp())
    .action(async (f: SimFlags) => {
      const o: SimOptions = {
        orgs: f.orgs,
        peers: f.peers,
        blocks: f.blocks,
        seed: f.seed,
        faults: f.faults,
        profile: f.profile,
        channels: f.channels,
        signer: f.signer,
        safetyMs: f.safety,
        plant: f.plant,
        log: f.verbose && !f.json ? (l) => console.log(l) : undefined,
      };
      const r = f.checkDeterminism ? await simulateTwice(o) : await simulate(o);
      console.log(f.json ? JSON.stringify(reportJson(r), null, 2) : formatReport(r));
      code = r.ok ? 0 : 1;
    });

  program
    .command('soak')
    .description('run many seeds; print every failure with its replay command; exit 1 when any failed')
    .requiredOption('--seeds <n>', 'number of seeds', count('--seeds'))
    .option('--from <s>', 'first seed', count('--from', 0), 1)
    .addOption(new Option('--faults <set>', 'fault set, or all to cycle through them').choices([...FAULT_SETS, 'all']).default('all'))
    .addOption(new Option('--profile <p>', 'peer profile, or both to alternate').choices(['murmur', 'fabric', 'both']).default('both'))
    .option('--orgs <n>', 'organizations', count('--orgs'), 2)
    .option('--peers <n>', 'peers per organization', count('--peers'), 3)
    .option('--blocks <n>', 'blocks', count('--blocks', 0), 10)
    .option('--channels <n>', 'channels', count('--channels'), 1)
    .option('--safety <seconds>', 'shortest safety phase in simulated seconds (default 60)', seconds)
    .option('--json', 'one JSON line per seed')
    .action(async (f: { seeds: number; from: number; faults: FaultSet | 'all'; profile: 'murmur' | 'fabric' | 'both'; orgs: number; peers: number; blocks: number; channels: number; safety?: number; json?: boolean }) => {
      const failures: SimReport[] = [];
      const t0 = performance.now();
      let simMs = 0;
      for (let i = 0; i < f.seeds; i++) {
        const seed = f.from + i;
        const faults = f.faults === 'all' ? FAULT_SETS[seed % FAULT_SETS.length]! : f.faults;
        const profile = f.profile === 'both' ? (Math.floor(seed / FAULT_SETS.length) % 2 ? 'fabric' : 'murmur') : f.profile;
        const r = await simulate({ orgs: f.orgs, peers: f.peers, blocks: f.blocks, channels: f.channels, safetyMs: f.safety, seed: String(seed), faults, profile });
        simMs += r.summary.endMs;
        if (f.json) console.log(JSON.stringify({ seed, faults, profile, ok: r.ok, violation: r.violation?.name ?? null, atMs: r.violation?.atMs ?? null, replay: r.replay, wallMs: Math.round(r.wallMs) }));
        else console.log(`seed ${seed} ${faults}/${profile}: ${r.ok ? 'ok' : `FAIL ${r.violation!.name} at ${(r.violation!.atMs / 1000).toFixed(1)} s`} (${(r.wallMs / 1000).toFixed(1)} s)`);
        if (!r.ok) failures.push(r);
      }
      const wall = (performance.now() - t0) / 1000;
      if (!f.json) {
        console.log(`\n${f.seeds - failures.length} passed, ${failures.length} failed; ${(simMs / 1000).toFixed(0)} simulated s in ${wall.toFixed(0)} s`);
        for (const r of failures) console.log(`FAIL ${r.violation!.name}: ${r.violation!.detail.split('\n')[0]}\n  replay: ${r.replay}`);
      }
      code = failures.length ? 1 : 0;
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version' ? 0 : 2;
    throw e;
  }
  return code;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(`sim: ${(e as Error).stack ?? e}`);
      process.exit(1);
    },
  );
}
