/**
 * History ⇄ proto3 JSON (the format `temporal workflow show --output json` and the Web UI
 * export), for the recorded fixtures.
 *
 * Why not @temporalio/common's historyToJSON / historyFromJSON (which Worker.runReplayHistory
 * also calls for JSON input): in this install both throw "type must be a Type". The root
 * node_modules holds protobufjs 7 (for @grpc/proto-loader), so npm gave @temporalio/common,
 * @temporalio/proto and @temporalio/worker each their own copy of protobufjs 8, and the
 * protojson of common's copy rejects the message types built by proto's copy (an `instanceof`
 * across copies). Here protojson is loaded from the protobufjs that @temporalio/proto itself
 * resolves — correct with this layout and with a deduplicated one — and the replay test hands
 * the worker decoded histories, so the worker never converts JSON itself.
 */
import path from 'node:path';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

type History = proto.temporal.api.history.v1.IHistory;

/** Where record-histories.ts writes and replay.test.ts reads. */
export const HISTORIES_DIR = path.resolve(__dirname, '../fixtures/histories');

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

const protoDir = path.dirname(require.resolve('@temporalio/proto'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as ProtoJson;
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

/** A fetched history as pretty-printed proto3 JSON. */
export function historyToJson(history: History): string {
  const json = protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history));
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** Proto3 JSON back to a History the replayer takes as is (event ids are Longs, so it does not convert again). */
export function historyFromJson(json: unknown): History {
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History | null;
  if (!history?.events?.length) throw new TypeError('not a workflow history');
  return history;
}
