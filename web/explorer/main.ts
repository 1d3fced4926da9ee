/**
 * The offline explorer: GraphiQL bundled with the service, talking to the same origin's
 * /graphql, with the example operations of schema/operations/ opened as tabs.
 */
import { GraphiQL } from 'graphiql';
import type { Fetcher } from '@graphiql/toolkit';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import 'graphiql/graphiql.css';

interface Operation {
  readonly name: string;
  readonly query: string;
}

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

async function main() {
  const root = document.getElementById('explorer')!;
  const operationsUrl = root.dataset.operations!;
  const operations = (await (await fetch(operationsUrl)).json()) as Operation[];
  createRoot(root).render(
    createElement(GraphiQL, {
      fetcher,
      defaultTabs: operations.map((op) => ({ query: op.query })),
      shouldPersistHeaders: false,
      isHeadersEditorEnabled: true,
    }),
  );
}

void main();
