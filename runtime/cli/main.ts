// The `murmur` command line (contract: ../shared/notes/contract.md). Each command's work lives in its own
// module; this file only declares flags and turns errors into clear messages and exit codes.
import { Command, InvalidArgumentError, Option } from 'commander';
import { resolve } from 'node:path';
import { parseDuration } from '../../config/formats.ts';

const program = new Command();
program.name('murmur').description("Hyperledger Fabric's gossip protocol as XState actors over NATS").showHelpAfterError();

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};
const durationMs = (v: string) => {
  const d = parseDuration(v);
  if (!d.ok) throw new InvalidArgumentError(d.error);
  return d.value;
};
const fail = (e: unknown): never => {
  console.error(`murmur: ${(e as Error).message ?? e}`);
  process.exit(2);
};
const notYet = (flag: string) => () => {
  throw new InvalidArgumentError(`${flag} is not available yet`);
};

const peer = program.command('peer').description('run a peer');
peer
  .command('start')
  .description('start one peer from a core.yaml (default $FABRIC_CFG_PATH/core.yaml)')
  .option('--config <file>', 'core.yaml to read')
  .addOption(new Option('--inspect', 'send actor inspection events to a loopback relay').argParser(notYet('--inspect')))
  .action(async (opts: { config?: string }) => {
    const { runPeerStart } = await import('./peer-start.ts');
    await runPeerStart(opts.config).catch(fail);
  });

program
  .command('status')
  .description('ask every live peer for its status over NATS')
  .option('--nats <url>', 'NATS server URL(s), comma-separated (default: natsUrl of --data/network.json)')
  .option('--data <dir>', 'data folder of a `murmur up` network', './.murmur')
  .option('--json', 'print a JSON array, one row per peer and channel')
  .option('--timeout <duration>', 'how long to collect answers', durationMs, 2000)
  .action(async (opts: { nats?: string; data: string; json?: boolean; timeout: number }) => {
    const { queryStatus, resolveNats, formatStatusTable } = await import('./status.ts');
    try {
      const target = resolveNats({ nats: opts.nats, data: opts.data });
      const rows = await queryStatus({ ...target, timeoutMs: opts.timeout });
      console.log(opts.json ? JSON.stringify(rows, null, 2) : rows.length ? formatStatusTable(rows) : 'no peer answered');
      process.exit(rows.length ? 0 : 1);
    } catch (e) {
      console.error(`murmur status: ${(e as Error).message}`);
      process.exit(1);
    }
  });

program
  .command('up')
  .description('start a local network: embedded nats-server, crypto material, one process per peer')
  .option('--orgs <n|list>', 'org count or comma list of names', '2')
  .option('--peers <n>', 'peers per org', int('--peers'), 3)
  .option('--channels <n>', 'channel count', int('--channels'), 1)
  .option('--nats <url>', 'use this NATS server (list) instead of an embedded one')
  .option('--data <dir>', 'folder for crypto, JetStream store, ledgers, logs and network.json', './.murmur')
  .option('--fresh', 'wipe --data first')
  .addOption(new Option('--timings <preset>', 'timer preset').choices(['local', 'fabric']).default('local'))
  .option('--no-load', 'start no transaction load (no load generator exists yet, so this is the behaviour today)')
  .addOption(new Option('--nats-cluster <n>', 'start a local NATS cluster').argParser(notYet('--nats-cluster')))
  .addOption(new Option('--in-process', 'all peers in one process').argParser(notYet('--in-process')))
  .addOption(new Option('--load-rate <tx_per_s>', 'transaction load').argParser(notYet('--load-rate')))
  .addOption(new Option('--inspect', 'XState inspector relay').argParser(notYet('--inspect')))
  .addOption(new Option('--dashboard', 'browser dashboard').argParser(notYet('--dashboard')))
  .action(async (opts: { orgs: string; peers: number; channels: number; nats?: string; data: string; fresh?: boolean; timings: 'local' | 'fabric' }, cmd: Command) => {
    const { up } = await import('./up.ts');
    const explicit = new Set(['orgs', 'peers', 'channels'].filter((k) => cmd.getOptionValueSource(k) === 'cli'));
    await up({ ...opts, fresh: !!opts.fresh, explicit, prefix: 'murmur' }).catch(fail);
  });

const crypto = program.command('crypto').description('crypto material');
crypto
  .command('generate')
  .description('org CAs, peer and orderer identities, and each channel genesis block')
  .option('--orgs <n|list>', 'org count or comma list of names', '2')
  .option('--peers <n>', 'peers per org', int('--peers'), 3)
  .option('--channels <n>', 'channel count', int('--channels'), 1)
  .requiredOption('--out <dir>', 'output folder')
  .action(async (opts: { orgs: string; peers: number; channels: number; out: string }) => {
    const { generateMaterial, writeMaterial, parseOrgs, channelNames } = await import('../crypto/material.ts');
    try {
      const m = writeMaterial(generateMaterial({ orgs: parseOrgs(opts.orgs), peers: opts.peers, channels: channelNames(opts.channels) }), resolve(opts.out));
      console.log(`wrote ${m.orgs.length} orgs x ${opts.peers} peers, ${m.channels.length} channel(s) to ${resolve(opts.out)} (manifest: crypto.json)`);
    } catch (e) {
      fail(e);
    }
  });

program.command('help [command]').description('show help for a command').action((name?: string) => {
  const sub = name ? program.commands.find((c) => c.name() === name) : undefined;
  (sub ?? program).outputHelp();
});

await program.parseAsync(process.argv).catch(fail);
