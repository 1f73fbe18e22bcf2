/**
 * The event catalog (issue 11, item 4): every event type with its description and the JSON Schema of its data,
 * generated from the schemas ingest validates. Checked with an independent validator (Ajv, JSON Schema 2020-12)
 * against what ingest accepts and refuses.
 */
import Ajv2020 from 'ajv/dist/2020';
import { EVENT_TYPES, SUBSCRIBABLE_EVENT_TYPES } from '../src/domain/events';
import { sampleData } from '../src/destinations/sample-payloads';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';

let stack: Stack;
let org: Org;
let catalog: { name: string; description: string; subscribable: boolean; schema: Record<string, unknown> }[];

beforeAll(async () => {
  stack = await createStack();
  org = await stack.createOrg();
  const res = await stack.api('GET', '/v1/event-types', null);
  expect(res.status).toBe(200);
  catalog = res.body.data;
});
afterAll(async () => stack?.close());

const validatorFor = (name: string) => new Ajv2020({ strict: false, allErrors: true }).compile(catalog.find((e) => e.name === name)!.schema);

it('lists every event type, with a description and a JSON Schema, without needing a key', () => {
  expect(catalog.map((e) => e.name)).toEqual([...EVENT_TYPES]);
  for (const entry of catalog) {
    expect(entry.description.length).toBeGreaterThan(10);
    expect(entry.subscribable).toBe(entry.name !== 'ping');
    expect(entry.schema).toMatchObject({ type: 'object', additionalProperties: false });
  }
});

it("each published schema accepts the spec's sample payloads, and ingest accepts them too", async () => {
  expect(validatorFor('secret.created')(secretCreatedData)).toBe(true);
  for (const name of EVENT_TYPES) {
    const validate = validatorFor(name);
    expect({ name, valid: validate(sampleData(name)), errors: validate.errors ?? null }).toEqual({ name, valid: true, errors: null });
  }
  for (const name of SUBSCRIBABLE_EVENT_TYPES) {
    expect({ name, status: (await stack.api('POST', '/v1/events', org.serviceToken, { event: name, data: sampleData(name) })).status }).toEqual({ name, status: 202 });
  }
});

it('each published schema rejects what ingest rejects', async () => {
  const badData = (name: string): [string, Record<string, unknown>][] => {
    const good = sampleData(name as never);
    const without = (field: string) => Object.fromEntries(Object.entries(good).filter(([k]) => k !== field));
    return [
      ['missing vaultId', without('vaultId')],
      ['vaultId not a string', { ...good, vaultId: 42 }],
      ['vaultId empty', { ...good, vaultId: '' }],
      ['vaultId too long', { ...good, vaultId: 'v'.repeat(129) }],
      ['unknown field', { ...good, colour: 'red' }],
      ['a secret value', { ...good, value: 'sk_live_TOPSECRET' }],
      ['actor without id', { ...good, actor: { name: 'Jane' } }],
      ['actor with an unknown field', { ...good, actor: { id: 'usr_1', admin: true } }],
      ...(name.startsWith('secret.') ? ([['missing secretKey', without('secretKey')]] as [string, Record<string, unknown>][]) : []),
      ...(name.startsWith('member.') ? ([['member not an object', { ...good, member: 'usr_1' }]] as [string, Record<string, unknown>][]) : []),
    ];
  };
  const disagreements: unknown[] = [];
  let cases = 0;
  for (const name of SUBSCRIBABLE_EVENT_TYPES) {
    const validate = validatorFor(name);
    for (const [label, data] of badData(name)) {
      cases++;
      const ingest = await stack.api('POST', '/v1/events', org.serviceToken, { event: name, data });
      const schemaAccepts = validate(data);
      if (schemaAccepts || ![400, 422].includes(ingest.status)) disagreements.push({ name, label, schemaAccepts, ingest: ingest.status });
    }
  }
  expect(disagreements).toEqual([]);
  expect(cases).toBeGreaterThanOrEqual(8 * 8);
});

it('is in the OpenAPI document (and the ingest body there carries the same per-type schemas), and linked from /docs', async () => {
  const doc = stack.openapi as any;
  expect(doc.paths['/v1/event-types'].get.responses['200']).toBeDefined();
  const ingestSchema = doc.components.schemas.IngestEvent;
  expect(ingestSchema.oneOf).toHaveLength(SUBSCRIBABLE_EVENT_TYPES.length);
  for (const variant of ingestSchema.oneOf) {
    const [name] = variant.properties.event.enum;
    const published = catalog.find((e) => e.name === name)!.schema;
    expect({ name, required: variant.properties.data.required, properties: Object.keys(variant.properties.data.properties) }).toEqual({
      name,
      required: published.required,
      properties: Object.keys(published.properties as object),
    });
  }
  const docs = await fetch(`${stack.apiUrl}/docs`);
  expect(await docs.text()).toContain('href="/v1/event-types"');
});
