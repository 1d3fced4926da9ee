import { Ctx, Field, Int, ObjectType, Query, Resolver } from 'type-graphql';
import { ForbiddenError } from '../../errors';
import { fileInScope } from '../../query/guards';
import { RequestContext } from '../context';

@ObjectType({ description: 'A trail file left out of every answer because it cannot be read; read again once it changes (on Athena, an hour after it was found).' })
export class UnreadableTrailFile {
  @Field({ description: 'Path relative to the trail folder (`AWSLogs/...`).' })
  path!: string;

  @Field({ description: 'Why it cannot be read: `empty file`, `not a complete gzip stream`, `truncated JSON`, `malformed JSON`, `permission denied`, `not a file`, `vanished while being read` or `unreadable`.' })
  reason!: string;

  @Field(() => Number, { description: 'Size in bytes of the version found unreadable (0 on Athena, which lists no objects).' })
  size!: number;

  @Field({ description: 'When it was found unreadable.' })
  since!: Date;
}

@ObjectType({ description: 'The state of the data the service reads, as far as the engine can tell.' })
export class TrailHealth {
  @Field({ description: 'Whether the engine can tell anything about the files (false when it cannot: the fields below are then empty). On Athena it knows only the objects queries failed on.' })
  observed!: boolean;

  @Field({ description: 'Whether the trail can be read at all (its folder and AWSLogs/ exist; always true on Athena, whose queries say when they cannot).' })
  available!: boolean;

  @Field(() => String, { nullable: true, description: 'Why it cannot, when it cannot.' })
  problem!: string | null;

  @Field(() => Int, { description: 'Files set aside right now.' })
  unreadableFileCount!: number;

  @Field(() => [UnreadableTrailFile], { description: 'Those files, by path. Only files some query (or readiness) has tried to read are known.' })
  unreadableFiles!: UnreadableTrailFile[];

  @Field(() => Int, { description: 'Files found unreadable since the service started, each version once. For a key scoped to some accounts or regions: the files of its scope set aside now (the count since start would tell of the others).' })
  unreadableFilesFound!: number;
}

@Resolver()
export class TrailHealthResolver {
  @Query(() => TrailHealth, {
    description:
      "Unreadable trail files and whether the trail is there at all. Admin keys only (`FORBIDDEN` otherwise); a key scoped to some accounts or regions sees only its scope's files.",
  })
  async trailHealth(@Ctx() ctx: RequestContext): Promise<TrailHealth> {
    const scope = ctx.service.scope;
    if (!scope.admin) throw new ForbiddenError('trailHealth needs an admin key');
    const health = await ctx.trailHealth?.();
    if (!health) return { observed: false, available: true, problem: null, unreadableFileCount: 0, unreadableFiles: [], unreadableFilesFound: 0 };
    // The engine's list is every query's, whoever asked: a scoped key's paths stop at its scope.
    const unreadable = health.unreadable.filter((f) => fileInScope(f.path, scope));
    const scoped = scope.accounts.length > 0 || scope.regions.length > 0;
    return {
      observed: true,
      available: health.available,
      problem: health.problem ?? null,
      unreadableFileCount: unreadable.length,
      unreadableFiles: unreadable.map((f) => ({ path: f.path, reason: f.reason, size: f.size, since: new Date(f.since) })),
      unreadableFilesFound: scoped ? unreadable.length : health.unreadableFound,
    };
  }
}
