import { createResolverContainer, NO_RESOLVERS } from '../../src/container';
import { resolvers } from '../../src/graphql/schema';
import { startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';

/** type-graphql asks the container for a resolver only when a field runs: a class missing here would fail only then. */
describe(`the resolver container (${TEST_DB})`, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('answers every resolver class of the schema with an instance of it', () => {
    const container = createResolverContainer(app.services);
    for (const resolver of resolvers) expect(container.get(resolver, {} as never)).toBeInstanceOf(resolver);
  });

  it('NO_RESOLVERS, for a schema that is only printed, refuses to hand out any resolver', () => {
    for (const resolver of resolvers) expect(() => NO_RESOLVERS.get(resolver, {} as never)).toThrow(`no resolver instance for ${resolver.name}`);
  });
});
