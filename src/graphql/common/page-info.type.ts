import { ClassType, Field, FieldResolver, Int, ObjectType, Resolver, Root } from 'type-graphql';

@ObjectType({ description: 'Relay page information.' })
export class PageInfo {
  @Field({ description: 'True when more items follow this page.' })
  hasNextPage!: boolean;

  @Field({ description: 'True when this page was asked for with `after`.' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first item of the page; null for an empty page.' })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last item: pass it as `after` for the next page; null for an empty page.' })
  endCursor!: string | null;
}

@ObjectType({ description: 'The UTC time window a query read: `from` inclusive, `to` exclusive.' })
export class TimeWindow {
  @Field({ description: 'Start (inclusive).' })
  from!: Date;

  @Field({ description: 'End (exclusive).' })
  to!: Date;
}

/**
 * A Relay connection type for `node` (with its edge type), plus the resolver of its `totalCount`,
 * computed only when a client asks for it (by the page's own query when it can).
 */
export function connectionOf<T extends object>(node: ClassType<T>, name: string, what: { items: string; order: string; count: string }) {
  @ObjectType(name.replace(/Connection$/, 'Edge'), { description: `An entry of a page of ${what.items}, with its cursor.` })
  class Edge {
    @Field({ description: 'Pass as `after` to get the items after this one; bound to the query it came from.' })
    cursor!: string;

    @Field(() => node, { description: 'The item.' })
    node!: T;
  }

  @ObjectType(name, { description: `A page of ${what.items}, ${what.order}; the window stays fixed across pages.` })
  class Connection {
    @Field(() => [Edge], { description: 'The items of this page with their cursors.' })
    edges!: Edge[];

    @Field(() => [node], { description: 'The items of this page, without cursors.' })
    nodes!: T[];

    @Field(() => PageInfo, { description: 'Whether more pages follow, and the cursors to get them.' })
    pageInfo!: PageInfo;

    @Field(() => TimeWindow, { description: 'The window this connection reads; later pages keep it.' })
    window!: TimeWindow;

    totalCount!: () => Promise<number>;
  }

  @Resolver(() => Connection)
  class CountResolver {
    @FieldResolver(() => Int, { description: `${what.count} (only when asked for: counted by the page's own query, batched across parents for nested lists; one more query after a cursor that leaves no entries).` })
    totalCount(@Root() connection: Connection): Promise<number> {
      return connection.totalCount();
    }
  }

  return { Connection, Edge, CountResolver };
}
