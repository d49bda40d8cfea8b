/**
 * A restricted unpickler for the `data.pkl` of a PyTorch checkpoint (torch.save, pickle protocol 2).
 * A pickle is a program: GLOBAL names any importable callable and REDUCE calls it, so reading an
 * untrusted pytorch_model.bin with a general unpickler can run code. This one, like torch's
 * `weights_only=True` loader (torch/_weights_only_unpickler.py), implements only the opcodes a state
 * dict uses and resolves GLOBAL against a fixed list (OrderedDict, the tensor rebuild functions, the
 * storage types); anything else is refused by name. Nothing here ever calls code named by the file.
 * Written here because npm has no maintained package that reads torch pickles.
 */

/** A tensor as `torch._utils._rebuild_tensor_v2` describes it: a view of a storage. */
export interface TensorView {
  storage: StorageRef;
  offset: number;
  shape: number[];
  stride: number[];
}

/** A storage as torch.save's persistent_id writes it: `('storage', torch.FloatStorage, key, location, numel)`. */
export interface StorageRef {
  dtype: StorageDtype;
  key: string;
  numel: number;
}

export type StorageDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** torch.<Name>Storage → element type (torch/storage.py's _get_dtype_from_pickle_storage_type). */
const STORAGE_TYPES: Record<string, StorageDtype> = {
  DoubleStorage: 'F64',
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

class Tuple {
  constructor(readonly items: unknown[]) {}
}
class Global {
  constructor(readonly name: string) {}
}
class StorageType {
  constructor(readonly dtype: StorageDtype) {}
}
const MARK = Symbol('mark');

/** The globals a state dict holds; every other GLOBAL is refused (torch's weights_only list is the model). */
function resolveGlobal(module: string, name: string, file: string): Global | StorageType {
  const qualified = `${module}.${name}`;
  if (['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter'].includes(qualified))
    return new Global(qualified);
  const dtype = module === 'torch' ? STORAGE_TYPES[name] : undefined;
  if (dtype) return new StorageType(dtype);
  throw new Error(
    `${file}: the pickle names the global ${qualified}, which a PyTorch state dict never holds; refused without running anything ` +
      '(a pickle can run code). Use a checkpoint of weights only (model.safetensors, or a pytorch_model.bin saved from a state dict)',
  );
}

function call(fn: unknown, args: unknown, file: string): unknown {
  const a = args instanceof Tuple ? args.items : [];
  const name = fn instanceof Global ? fn.name : String(fn);
  if (name === 'collections.OrderedDict' && a.length === 0) return new Map();
  if (name === 'torch._utils._rebuild_parameter' && isTensor(a[0])) return a[0];
  if (name === 'torch._utils._rebuild_tensor_v2') {
    const [storage, offset, shape, stride] = a;
    const ints = (v: unknown) => v instanceof Tuple && v.items.every((n) => typeof n === 'number');
    if (isStorage(storage) && typeof offset === 'number' && ints(shape) && ints(stride)) {
      return { storage, offset, shape: (shape as Tuple).items, stride: (stride as Tuple).items } as TensorView;
    }
  }
  throw new Error(`${file}: the pickle calls ${name} with arguments a state dict never has; refused`);
}

const isStorage = (v: unknown): v is StorageRef => typeof v === 'object' && v !== null && 'numel' in v && 'key' in v;
const isTensor = (v: unknown): v is TensorView => typeof v === 'object' && v !== null && 'storage' in v && 'stride' in v;

function persistentLoad(pid: unknown, file: string): StorageRef {
  const [kind, type, key, , numel] = pid instanceof Tuple ? pid.items : [];
  if (kind !== 'storage' || !(type instanceof StorageType) || typeof key !== 'string' || typeof numel !== 'number')
    throw new Error(`${file}: a persistent id of the pickle is not a torch storage reference; refused`);
  return { dtype: type.dtype, key, numel };
}

/** Reads the pickle stream opcode by opcode (pickle.py's names and codes). */
class Reader {
  private pos = 0;
  private readonly stack: unknown[] = [];
  private readonly memo = new Map<number, unknown>();

  constructor(
    private readonly bytes: Buffer,
    private readonly file: string,
  ) {}

  private take(n: number): Buffer {
    if (this.pos + n > this.bytes.length)
      throw new Error(`${this.file}: the pickle ends in the middle of an opcode; the file is truncated`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) throw new Error(`${this.file}: the pickle ends inside a GLOBAL; the file is truncated`);
    const text = this.bytes.toString('latin1', this.pos, end);
    this.pos = end + 1;
    return text;
  }

  private pop(): unknown {
    if (this.stack.length === 0) throw new Error(`${this.file}: the pickle pops an empty stack; the file is corrupt`);
    return this.stack.pop();
  }

  private popMark(): unknown[] {
    const at = this.stack.lastIndexOf(MARK);
    if (at < 0) throw new Error(`${this.file}: the pickle has no MARK where one is needed; the file is corrupt`);
    return this.stack.splice(at).slice(1);
  }

  private top(): unknown {
    return this.stack[this.stack.length - 1];
  }

  private setItems(dict: unknown, items: unknown[]): void {
    if (!(dict instanceof Map)) throw new Error(`${this.file}: the pickle sets items on something that is not a dict; refused`);
    for (let i = 0; i + 1 < items.length; i += 2) dict.set(items[i], items[i + 1]);
  }

  run(): unknown {
    for (;;) {
      const op = this.take(1)[0] as number;
      if (op === 0x2e) return this.pop(); // STOP
      if (!this.constant(op) && !this.container(op) && !this.control(op))
        throw new Error(`${this.file}: pickle opcode 0x${op.toString(16)} at byte ${this.pos - 1} is not one a state dict uses; refused`);
    }
  }

  /** Opcodes that push a constant. */
  private constant(op: number): boolean {
    const s = this.stack;
    if (op === 0x4b)
      s.push(this.take(1).readUInt8(0)); // BININT1
    else if (op === 0x4d)
      s.push(this.take(2).readUInt16LE(0)); // BININT2
    else if (op === 0x4a)
      s.push(this.take(4).readInt32LE(0)); // BININT
    else if (op === 0x8a)
      s.push(this.long1()); // LONG1
    else if (op === 0x47)
      s.push(this.take(8).readDoubleBE(0)); // BINFLOAT
    else if (op === 0x58)
      s.push(this.take(this.take(4).readUInt32LE(0)).toString('utf8')); // BINUNICODE
    else if (op === 0x8c)
      s.push(this.take(this.take(1).readUInt8(0)).toString('utf8')); // SHORT_BINUNICODE
    else if (op === 0x88 || op === 0x89)
      s.push(op === 0x88); // NEWTRUE, NEWFALSE
    else if (op === 0x4e)
      s.push(null); // NONE
    else return false;
    return true;
  }

  private long1(): number {
    const bytes = this.take(this.take(1).readUInt8(0));
    if (bytes.length === 0) return 0;
    const value = Number(BigInt.asIntN(bytes.length * 8, BigInt(`0x${Buffer.from(bytes).reverse().toString('hex')}`)));
    if (!Number.isSafeInteger(value)) throw new Error(`${this.file}: the pickle has an integer too large for a tensor size; refused`);
    return value;
  }

  /** Opcodes that build tuples, lists and dicts. */
  private container(op: number): boolean {
    const s = this.stack;
    if (op === 0x29)
      s.push(new Tuple([])); // EMPTY_TUPLE
    else if (op >= 0x85 && op <= 0x87)
      s.push(new Tuple(s.splice(s.length - (op - 0x84)))); // TUPLE1..3
    else if (op === 0x74)
      s.push(new Tuple(this.popMark())); // TUPLE
    else if (op === 0x5d)
      s.push([]); // EMPTY_LIST
    else if (op === 0x7d)
      s.push(new Map()); // EMPTY_DICT
    else if (op === 0x61 || op === 0x65) {
      const items = op === 0x61 ? [this.pop()] : this.popMark(); // APPEND, APPENDS
      const list = this.top();
      if (!Array.isArray(list)) throw new Error(`${this.file}: the pickle appends to something that is not a list; refused`);
      list.push(...items);
    } else if (op === 0x73) {
      const value = this.pop(); // SETITEM
      const key = this.pop();
      this.setItems(this.top(), [key, value]);
    } else if (op === 0x75) {
      const items = this.popMark(); // SETITEMS
      this.setItems(this.top(), items);
    } else return false;
    return true;
  }

  /** Framing, memo, globals, calls. */
  private control(op: number): boolean {
    const s = this.stack;
    if (op === 0x80)
      this.take(1); // PROTO
    else if (op === 0x95)
      this.take(8); // FRAME (protocol 4)
    else if (op === 0x28) s.push(MARK);
    else if (op === 0x30)
      this.pop(); // POP
    else if (op === 0x31)
      this.popMark(); // POP_MARK
    else if (op === 0x71 || op === 0x72 || op === 0x94) {
      const index = op === 0x71 ? this.take(1).readUInt8(0) : op === 0x72 ? this.take(4).readUInt32LE(0) : this.memo.size;
      this.memo.set(index, this.top()); // BINPUT, LONG_BINPUT, MEMOIZE
    } else if (op === 0x68 || op === 0x6a) {
      const index = op === 0x68 ? this.take(1).readUInt8(0) : this.take(4).readUInt32LE(0); // BINGET, LONG_BINGET
      if (!this.memo.has(index)) throw new Error(`${this.file}: the pickle reads memo ${index}, never stored; the file is corrupt`);
      s.push(this.memo.get(index));
    } else if (op === 0x63) {
      const module = this.line(); // GLOBAL
      s.push(resolveGlobal(module, this.line(), this.file));
    } else if (op === 0x93) {
      const name = this.pop(); // STACK_GLOBAL
      s.push(resolveGlobal(String(this.pop()), String(name), this.file));
    } else if (op === 0x52) {
      const args = this.pop(); // REDUCE
      s.push(call(this.pop(), args, this.file));
    } else if (op === 0x51)
      s.push(persistentLoad(this.pop(), this.file)); // BINPERSID
    else if (op === 0x62) {
      this.pop(); // BUILD: the OrderedDict's _metadata or a tensor's __dict__, which the weights do not need
      if (!(this.top() instanceof Map) && !isTensor(this.top()))
        throw new Error(`${this.file}: the pickle sets the state of something that is neither a dict nor a tensor; refused`);
    } else return false;
    return true;
  }
}

/** The state dict a `data.pkl` holds: parameter name → tensor view. */
export function unpickleStateDict(bytes: Buffer, file: string): Map<string, TensorView> {
  const result = new Reader(bytes, file).run();
  if (!(result instanceof Map)) throw new Error(`${file}: the pickle holds no state dict (an OrderedDict of tensors); refused`);
  const tensors = new Map<string, TensorView>();
  for (const [name, value] of result) {
    if (typeof name !== 'string' || !isTensor(value)) throw new Error(`${file}: state dict entry ${String(name)} is not a tensor`);
    tensors.set(name, value);
  }
  return tensors;
}
