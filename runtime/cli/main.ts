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
const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};
const durationMs = (v: string) => {
  const d = parseDuration(v);
  if (!d.ok) throw new InvalidArgumentError(d.error);
  return d.value;
};
const portArg = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`port must be 0..65535 (0 = any free port), got ${v}`);
  return n;
};
/** --join peer=ch1,ch2 (repeatable): collected into {peer: [channels]}. */
const joinArg = (v: string, acc: Record<string, string[]>): Record<string, string[]> => {
  const m = /^([^=\s]+)=([^=\s]*)$/.exec(v);
  if (!m) throw new InvalidArgumentError(`expected peer=channel[,channel…] (e.g. peer1.org2=channel1), got ${v}`);
  if (acc[m[1]!]) throw new InvalidArgumentError(`${m[1]} is named twice`);
  return { ...acc, [m[1]!]: m[2]!.split(',').filter(Boolean) };
};
const fail = (e: unknown): never => {
  console.error(`murmur: ${(e as Error).message ?? e}`);
  process.exit(2);
};
/** NATS credentials of a CLI client (nats-credentials.ts); `role` is the user picked from a users.json. */
const credentials = (role: 'client' | 'monitor') =>
  new Option('--credentials <file>', `NATS login: a users.json of crypto generate (its "${role}" user), one {"user","pass"} entry, or a NATS .creds file (default: the users --data's network.json names)`).env('MURMUR_NATS_CREDENTIALS');

const peer = program.command('peer').description('run a peer');
peer
  .command('start')
  .description('start one peer from a core.yaml (default $FABRIC_CFG_PATH/core.yaml)')
  .option('--config <file>', 'core.yaml to read')
  .option('--inspect [port]', 'serve every actor\'s inspection events on a loopback WebSocket relay (port 0 = any free port)')
  .action(async (opts: { config?: string; inspect?: boolean | string }) => {
    const { runPeerStart } = await import('./peer-start.ts');
    const inspect = opts.inspect === undefined ? undefined : opts.inspect === true ? true : Number(opts.inspect);
    if (typeof inspect === 'number' && !(Number.isInteger(inspect) && inspect >= 0 && inspect < 65536)) fail(new Error(`--inspect port must be 0..65535, got ${opts.inspect}`));
    await runPeerStart(opts.config, { inspect }).catch(fail);
  });

program
  .command('status')
  .description('ask every live peer for its status over NATS')
  .option('--nats <url>', 'NATS server URL(s), comma-separated (default: natsUrl of --data/network.json)')
  .option('--data <dir>', 'data folder of a `murmur up` network', './.murmur')
  .option('--json', 'print a JSON array, one row per peer and channel')
  .option('--timeout <duration>', 'how long to collect answers', durationMs, 2000)
  .addOption(credentials('monitor'))
  .action(async (opts: { nats?: string; data: string; json?: boolean; timeout: number; credentials?: string }) => {
    const { queryStatus, resolveNats, formatStatusTable } = await import('./status.ts');
    try {
      const target = resolveNats({ nats: opts.nats, data: opts.data, credentials: opts.credentials });
      const rows = await queryStatus({ ...target, timeoutMs: opts.timeout });
      console.log(opts.json ? JSON.stringify(rows, null, 2) : rows.length ? formatStatusTable(rows) : 'no peer answered');
      process.exit(rows.length ? 0 : 1);
    } catch (e) {
      console.error(`murmur status: ${(e as Error).message}`);
      process.exit(1);
    }
  });

program
  .command('dashboard')
  .description('serve a live browser dashboard of a network on loopback and print its URL (Ctrl-C stops it)')
  .option('--nats <url>', 'NATS server URL(s), comma-separated (default: natsUrl of --data/network.json)')
  .option('--data <dir>', 'data folder of a `murmur up` network (its network.json lists the peers)', './.murmur')
  .option('--port <port>', 'TCP port on 127.0.0.1 (default: a free one)', portArg)
  .addOption(credentials('monitor'))
  .action(async (opts: { nats?: string; data: string; port?: number; credentials?: string }, cmd: Command) => {
    const { runDashboard } = await import('./dashboard.ts');
    try {
      await runDashboard({ nats: opts.nats, data: opts.data, dataExplicit: cmd.getOptionValueSource('data') === 'cli', port: opts.port, credentials: opts.credentials });
    } catch (e) {
      console.error(`murmur dashboard: ${(e as Error).message}`);
      process.exit(1);
    }
  });

program
  .command('up')
  .description('start a local network: embedded nats-server, crypto material, the orderer and one process per peer (or all peers in this process with --in-process)')
  .option('--orgs <n|list>', 'org count or comma list of names', '2')
  .option('--peers <n>', 'peers per org', int('--peers'), 3)
  .option('--channels <n>', 'channel count', int('--channels'), 1)
  .option('--nats <url>', 'use this NATS server (list) instead of an embedded one')
  .option('--data <dir>', 'folder for crypto, JetStream store, ledgers, logs and network.json', './.murmur')
  .option('--fresh', 'wipe --data first')
  .addOption(new Option('--timings <preset>', 'timer preset').choices(['local', 'fabric']).default('local'))
  .option('--no-load', 'start no transaction load (default: a light load of 20 tx/s on every channel)')
  .option('--nats-cluster <n>', 'start a local cluster of N nats-servers (routes on loopback, block streams replicated) instead of one', int('--nats-cluster'))
  .option('--in-process', 'run every peer inside the up process (one heap and event loop; for scale on one machine) instead of one process per peer')
  .option('--load-rate <tx_per_s>', 'transactions per second of the load on each channel', positive('--load-rate'), 20)
  .option('--inspect', "start every peer with an XState inspector relay on loopback and print each relay's URL")
  .option('--dashboard [port]', 'serve the live browser dashboard on loopback (default: a free port) and print its URL', portArg)
  .option('--auth', "with --nats: the server enforces --data's generated NATS users (crypto/nats/auth.conf); give every process its own")
  .option('--no-auth', 'start the embedded server (or --nats-cluster) without the generated NATS authorization (default: on, a user per process)')
  .option('--join <peer=channels>', 'the peer joins only these channels (comma list, may be empty; repeat for more peers); peers not named join every channel', joinArg, {})
  .action(async (opts: { orgs: string; peers: number; channels: number; nats?: string; data: string; fresh?: boolean; timings: 'local' | 'fabric'; load: boolean; loadRate: number; dashboard?: true | number; inspect?: boolean; natsCluster?: number; inProcess?: boolean; auth?: boolean; join: Record<string, string[]> }, cmd: Command) => {
    const { up } = await import('./up.ts');
    const explicit = new Set(['orgs', 'peers', 'channels'].filter((k) => cmd.getOptionValueSource(k) === 'cli'));
    const { load, loadRate, dashboard, join, ...rest } = opts;
    await up({ ...rest, joins: join, fresh: !!opts.fresh, explicit, prefix: 'murmur', loadRate: load ? loadRate : 0, dashboard: dashboard === undefined ? undefined : dashboard === true ? 0 : dashboard }).catch(fail);
  });

const orderer = program.command('orderer').description('run the ordering service');
orderer
  .command('start')
  .description('start the ordering service from an orderer.yaml (Fabric names: BatchTimeout, BatchSize.*; env ORDERER_*)')
  .option('--config <file>', 'orderer.yaml to read (without it: defaults and ORDERER_* variables)')
  .action(async (opts: { config?: string }) => {
    const { runOrdererStart } = await import('./orderer-start.ts');
    await runOrdererStart(opts.config).catch(fail);
  });

program
  .command('tx')
  .description('submit one transaction to the orderer (DATA, or - for stdin)')
  .argument('<data>', 'transaction bytes as text, or - to read them from stdin')
  .requiredOption('--channel <name>', 'channel')
  .option('--wait', 'wait until the block holding it is appended')
  .option('--json', 'print {ok, txId, block?, error?} as JSON')
  .option('--nats <url>', 'NATS server URL(s) (default: natsUrl of --data/network.json)')
  .option('--data <dir>', 'data folder of a `murmur up` network', './.murmur')
  .option('--timeout <duration>', 'how long to wait for the answer (and with --wait, the block)', durationMs, 30_000)
  .addOption(credentials('client'))
  .action(async (data: string, opts: { channel: string; wait?: boolean; json?: boolean; nats?: string; data: string; timeout: number; credentials?: string }) => {
    const { runTx } = await import('./tx.ts');
    try {
      process.exit(await runTx(data, { channel: opts.channel, wait: !!opts.wait, json: !!opts.json, nats: opts.nats, dataDir: opts.data, timeoutMs: opts.timeout, credentials: opts.credentials }));
    } catch (e) {
      console.error(`murmur tx: ${(e as Error).message}`);
      process.exit(1);
    }
  });

program
  .command('load')
  .description('send a steady transaction load to the orderer; last line: accepted=N rejected=M')
  .requiredOption('--channel <name>', 'channel')
  .requiredOption('--rate <tx_per_s>', 'transactions per second', positive('--rate'))
  .requiredOption('--size <bytes>', 'bytes per transaction', int('--size'))
  .option('--duration <duration>', 'how long', durationMs, 30_000)
  .option('--json', 'print the result as JSON before the last line')
  .option('--nats <url>', 'NATS server URL(s) (default: natsUrl of --data/network.json)')
  .option('--data <dir>', 'data folder of a `murmur up` network', './.murmur')
  .addOption(credentials('client'))
  .action(async (opts: { channel: string; rate: number; size: number; duration: number; json?: boolean; nats?: string; data: string; credentials?: string }) => {
    const { runLoad } = await import('./tx.ts');
    try {
      await runLoad({ channel: opts.channel, rate: opts.rate, size: opts.size, durationMs: opts.duration, json: !!opts.json, nats: opts.nats, dataDir: opts.data, credentials: opts.credentials });
      process.exit(0);
    } catch (e) {
      console.error(`murmur load: ${(e as Error).message}`);
      process.exit(1);
    }
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

program.parseAsync(process.argv).catch(fail);
