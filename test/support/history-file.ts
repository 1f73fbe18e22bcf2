import { temporal } from '@temporalio/proto';

const { History } = temporal.api.history.v1;

/**
 * Histories on disk: protobuf's JSON object form (enum names, 64-bit numbers and bytes as strings), read
 * back with the proto package's own History.fromObject. Not the SDK's historyToJSON/historyFromJSON: with
 * three copies of protobufjs in node_modules (one per @temporalio package) those fail with "type must be a Type".
 */
export function historyToFile(history: temporal.api.history.v1.IHistory): string {
  return JSON.stringify(History.toObject(History.fromObject(history), { longs: String, enums: String, bytes: String }), null, 1) + '\n';
}

export function historyFromFile(text: string): temporal.api.history.v1.History {
  return History.fromObject(JSON.parse(text));
}
