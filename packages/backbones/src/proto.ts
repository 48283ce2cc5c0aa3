// A minimal protocol-buffer writer and the few TensorFlow messages needed to write a frozen
// GraphDef inside a SavedModel (tensorflow/core/framework/{graph,node_def,attr_value,tensor,
// tensor_shape}.proto and protobuf/{saved_model,meta_graph}.proto). Field numbers are the protos'.

type Bytes = Uint8Array;

function varint(v: number | bigint): Bytes {
  let n = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (n >= 0x80n) {
    out.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  out.push(Number(n));
  return Uint8Array.from(out);
}

export function concat(parts: Bytes[]): Bytes {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const key = (field: number, wire: number) => varint((field << 3) | wire);
const enc = new TextEncoder();

/** length-delimited field (bytes, string, or embedded message) */
export function fBytes(field: number, data: Bytes | string): Bytes {
  const b = typeof data === 'string' ? enc.encode(data) : data;
  return concat([key(field, 2), varint(b.length), b]);
}
export function fVarint(field: number, v: number | bigint | boolean): Bytes {
  return concat([key(field, 0), varint(typeof v === 'boolean' ? (v ? 1 : 0) : v)]);
}
export function fFloat(field: number, v: number): Bytes {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, v, true);
  return concat([key(field, 5), b]);
}
/** packed repeated varints */
export function fPacked(field: number, vs: number[]): Bytes {
  return fBytes(field, concat(vs.map((v) => varint(v))));
}

// ---- TensorFlow messages ----
export const DT_FLOAT = 1;
export const DT_INT32 = 3;

/** TensorShapeProto: dim = 2 { size = 1 } */
export function shapeProto(dims: number[]): Bytes {
  return concat(dims.map((d) => fBytes(2, fVarint(1, d))));
}

/** TensorProto: dtype 1, tensor_shape 2, tensor_content 4 (little-endian raw values) */
export function tensorProto(dtype: number, dims: number[], content: Float32Array | Int32Array): Bytes {
  const raw = new Uint8Array(content.buffer, content.byteOffset, content.byteLength);
  return concat([fVarint(1, dtype), fBytes(2, shapeProto(dims)), fBytes(4, raw)]);
}

/** AttrValue variants: list 1 { s 2, i 3 }, s 2, i 3, f 4, b 5, type 6, shape 7, tensor 8 */
export const attr = {
  s: (v: string) => fBytes(2, v),
  i: (v: number) => fVarint(3, v),
  f: (v: number) => fFloat(4, v),
  b: (v: boolean) => fVarint(5, v),
  type: (v: number) => fVarint(6, v),
  shape: (dims: number[]) => fBytes(7, shapeProto(dims)),
  tensor: (t: Bytes) => fBytes(8, t),
  ints: (vs: number[]) => fBytes(1, fPacked(3, vs)),
  strings: (vs: string[]) => fBytes(1, concat(vs.map((s) => fBytes(2, s)))),
};

/** NodeDef: name 1, op 2, input 3 (repeated), attr 5 (map<string, AttrValue>) */
export function nodeDef(name: string, op: string, inputs: string[], attrs: Record<string, Bytes>): Bytes {
  return concat([
    fBytes(1, name),
    fBytes(2, op),
    ...inputs.map((i) => fBytes(3, i)),
    ...Object.entries(attrs).map(([k, v]) => fBytes(5, concat([fBytes(1, k), fBytes(2, v)]))),
  ]);
}

/** SavedModel { schema_version 1, meta_graphs 2: MetaGraphDef { meta_info_def 1: { tags 4 }, graph_def 2: GraphDef { node 1, versions 4: { producer 1 } } } } */
export function savedModelProto(nodes: Bytes[], tags: string[], producer = 1286): Bytes {
  const graphDef = concat([...nodes.map((n) => fBytes(1, n)), fBytes(4, fVarint(1, producer))]);
  const metaInfo = concat(tags.map((t) => fBytes(4, t)));
  const metaGraph = concat([fBytes(1, metaInfo), fBytes(2, graphDef)]);
  return concat([fVarint(1, 1), fBytes(2, metaGraph)]);
}
