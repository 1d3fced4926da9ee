/**
 * Debian's chromium driven by puppeteer-core, for page tests: a fresh profile, no background
 * traffic, and every page confined to 127.0.0.1 (other requests are aborted and recorded).
 * Each page also records Content-Security-Policy violations and uncaught page errors.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import puppeteer, { Browser, Page } from 'puppeteer-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface TestBrowser {
  readonly browser: Browser;
  /** A new page confined to 127.0.0.1; see {@link PageRecord}. */
  page(): Promise<{ page: Page; record: PageRecord }>;
  close(): Promise<void>;
}

export interface PageRecord {
  /** URLs the page tried to reach beyond 127.0.0.1 (aborted). */
  readonly offHost: string[];
  /** Uncaught errors and console errors. */
  readonly errors: string[];
}

const LOCAL = /^(https?|ws):\/\/127\.0\.0\.1(:\d+)?\//;

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'trailql-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    pipe: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      `--user-data-dir=${profile}`,
      // Belt and braces with the interception below: names other than 127.0.0.1 do not resolve.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
  });
  return {
    browser,
    async page() {
      const page = await browser.newPage();
      const record: PageRecord = { offHost: [], errors: [] };
      await page.setRequestInterception(true);
      page.on('request', (req) => {
        const url = req.url();
        if (LOCAL.test(url) || url.startsWith('data:') || url.startsWith('blob:')) void req.continue();
        else {
          record.offHost.push(url);
          void req.abort('blockedbyclient');
        }
      });
      page.on('pageerror', (err) => record.errors.push(`pageerror: ${(err as Error).message ?? String(err)}`));
      page.on('console', (msg) => {
        if (msg.type() === 'error') record.errors.push(`console: ${msg.text()}`);
      });
      await page.evaluateOnNewDocument(
        "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
      );
      return { page, record };
    },
    async close() {
      try {
        await browser.close();
      } finally {
        fs.rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}
