/**
 * The offline explorer: GraphiQL bundled with the service, talking to the same origin's
 * /graphql, with the example operations of schema/operations/ opened as tabs.
 */
import { setNonce } from 'get-nonce';
import { GraphiQL } from 'graphiql';
import type { Fetcher } from '@graphiql/toolkit';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import 'graphiql/graphiql.css';

interface Operation {
  readonly name: string;
  readonly query: string;
}

// The page's style nonce (a fresh one per response, in its Content Security Policy): the styles
// GraphiQL's dialogs insert as they open carry it.
const nonce = document.querySelector<HTMLMetaElement>('meta[name="trailql-style-nonce"]')?.content;
if (nonce) setNonce(nonce);

const endpoint = new URL('/graphql', location.href).toString();

/** A plain JSON POST; the headers editor's Authorization header is sent as typed. */
const fetcher: Fetcher = async (params, options) => {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(options?.headers ?? {}) },
    body: JSON.stringify(params),
    credentials: 'omit',
  });
  return res.json();
};

/**
 * Whatever GraphiQL keeps, every `headers` in it null (its history kept them on every run; a
 * saved tab without the key at all is not read back, so the key stays).
 */
function withoutHeaders(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text, (key, value: unknown) => (key === 'headers' ? null : value)));
  } catch {
    return text;
  }
}

/** GraphiQL's entries that hold what was sent with each operation (the rest are texts as typed). */
const KEEPS_HEADERS = new Set(['graphiql:queries', 'graphiql:favorites', 'graphiql:tabState']);

/**
 * The browser storage GraphiQL keeps its tabs and history in, never holding headers (where a
 * token is typed): `shouldPersistHeaders: false` leaves them out of the tabs only.
 */
const storage = {
  getItem: (key: string) => localStorage.getItem(key),
  setItem: (key: string, value: string) => localStorage.setItem(key, KEEPS_HEADERS.has(key) ? withoutHeaders(value) : value),
  removeItem: (key: string) => localStorage.removeItem(key),
  get length() {
    return graphiqlKeys().length;
  },
  clear: () => graphiqlKeys().forEach((k) => localStorage.removeItem(k)),
};

/** The keys GraphiQL keeps (its own namespace), not the rest of the origin's storage. */
function graphiqlKeys(): string[] {
  return Object.keys(localStorage).filter((k) => k.startsWith('graphiql:'));
}

async function main() {
  // What an earlier page kept, headers included, loses them before anything reads it.
  for (const key of KEEPS_HEADERS) {
    const kept = localStorage.getItem(key);
    if (kept !== null) storage.setItem(key, kept);
  }
  const root = document.getElementById('explorer')!;
  const operationsUrl = root.dataset.operations!;
  const operations = (await (await fetch(operationsUrl)).json()) as Operation[];
  createRoot(root).render(
    createElement(GraphiQL, {
      fetcher,
      defaultTabs: operations.map((op) => ({ query: op.query })),
      shouldPersistHeaders: false,
      storage,
      isHeadersEditorEnabled: true,
    }),
  );
}

void main();
