import { Field, ID, InterfaceType } from 'type-graphql';

@InterfaceType('Node', {
  description: 'An object with a global id (Relay): `node(id:)` and `nodes(ids:)` return it again, and clients normalise their caches on it.',
  resolveType: (value: { __typename?: string }) => value.__typename,
})
export abstract class Node {
  @Field(() => ID, { description: 'Opaque global id, the same in every request for the same object; see each type for what it names.' })
  id!: string;
}
