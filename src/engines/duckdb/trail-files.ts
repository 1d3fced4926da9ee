import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PartitionSpec } from '../engine';

const ACCOUNT = /^\d{12}$/;
const ORG = /^o-[a-z0-9]{10,32}$/;
const RECORD_FILE = /\.json(\.gz)?$/;

async function children(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function recordFiles(dir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isFile() && RECORD_FILE.test(e.name)).map((e) => path.join(dir, e.name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** `AWSLogs/<account>/CloudTrail` folders under the root, for plain and organization trails. */
async function accountFolders(awsLogs: string): Promise<{ account: string; dir: string }[]> {
  const out: { account: string; dir: string }[] = [];
  for (const name of await children(awsLogs)) {
    if (ACCOUNT.test(name)) out.push({ account: name, dir: path.join(awsLogs, name, 'CloudTrail') });
    else if (ORG.test(name)) {
      for (const acct of await children(path.join(awsLogs, name))) {
        if (ACCOUNT.test(acct)) out.push({ account: acct, dir: path.join(awsLogs, name, acct, 'CloudTrail') });
      }
    }
  }
  return out;
}

/**
 * The record files a query needs, found without walking anything outside its partitions: the
 * account folders (filtered), their region folders (filtered), then only the listed day folders.
 * `CloudTrail-Digest/` and `CloudTrail-Insight/` are never entered.
 */
export async function listTrailFiles(root: string, partitions: PartitionSpec): Promise<string[]> {
  const awsLogs = path.basename(root) === 'AWSLogs' ? root : path.join(root, 'AWSLogs');
  const files: string[] = [];
  for (const { account, dir } of await accountFolders(awsLogs)) {
    if (partitions.accounts.length && !partitions.accounts.includes(account)) continue;
    for (const region of await children(dir)) {
      if (partitions.regions.length && !partitions.regions.includes(region)) continue;
      for (const day of partitions.days) files.push(...(await recordFiles(path.join(dir, region, ...day.split('/')))));
    }
  }
  return files.sort();
}
