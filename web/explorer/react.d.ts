// react 18 ships no type declarations; the explorer needs only these two functions.
declare module 'react' {
  export function createElement(type: unknown, props?: Record<string, unknown> | null): unknown;
}
declare module 'react-dom/client' {
  export function createRoot(container: Element): { render(element: unknown): void };
}
