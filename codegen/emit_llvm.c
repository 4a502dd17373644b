// The LLVM backend: the schedule (schedule.h) built as LLVM IR through the
// LLVM-C API, inside the module of runtime kernels compiled for the target
// (runtime_bitcode.h), so that LLVM specialises each kernel to the constant
// shapes of its call; then -O3 and one of NAME.ll, .bc, .o, .s beside the
// C backend's NAME.h.
//
// The module, for a model `m`:
//   @m_weights   internal constant, every parameter, 64-byte aligned
//   @m_run       int (const float *input, float *output, void *arena): the
//                C backend's argument checks, then one call per layer
//   @m_callK_KERNEL  internal, never inlined: schedule entry K, a call of
//                KERNEL with its constant arguments, inlined into it
//   the kernels  internal; what no layer calls is deleted by -O3
// Each layer in a function of its own keeps what LLVM optimises at a time
// the size of one specialised kernel; inlining them all into m_run would
// make one function of the whole network.
#include "codegen.h"
#include "runtime_bitcode.h"

#include <llvm-c/Analysis.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include <stdio.h>
#include <string.h>

typedef struct {
  const Graph *g;
  const MemPlan *plan;
  const Schedule *s;
  Arena *arena;
  const char *id;  // the model name as a C identifier
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMBuilderRef b;
  LLVMTypeRef f32, i32, ptr, intptr;
  LLVMValueRef weights;  // @ID_weights; NULL when the model has none
  LLVMValueRef attrs_from;  // a kernel, whose string attributes (target CPU,
                            // features, frame pointer...) new functions copy
} Emitter;

static void init_llvm_targets(void) {
  static bool done;
  if (done)
    return;
  LLVMInitializeX86TargetInfo();
  LLVMInitializeX86Target();
  LLVMInitializeX86TargetMC();
  LLVMInitializeX86AsmPrinter();
  LLVMInitializeX86AsmParser();
  LLVMInitializeAArch64TargetInfo();
  LLVMInitializeAArch64Target();
  LLVMInitializeAArch64TargetMC();
  LLVMInitializeAArch64AsmPrinter();
  LLVMInitializeAArch64AsmParser();
  done = true;
}

// The embedded kernel module for the target's instruction set; every
// aarch64 triple (linux-gnu, linux-android) shares one.
static const RuntimeBitcode *runtime_module(const Target *t) {
  const char *name = "";
  if (t->aarch64) {
    gh_assert(t->isa == ISA_NEON);
    name = "aarch64";
  } else {
    switch (t->isa) {
    case ISA_SCALAR: name = "x86_64"; break;
    case ISA_AVX2: name = "x86_64_v3"; break;
    case ISA_AVX512: name = "x86_64_v4"; break;
    case ISA_NEON: gh_assert(!"NEON kernels for x86-64"); break;
    }
  }
  for (int i = 0; i < n_runtime_bitcode; i++)
    if (!strcmp(runtime_bitcode[i].name, name))
      return &runtime_bitcode[i];
  gh_assert(!"runtime bitcode missing from the build");
  return NULL;
}

// A target machine for the triple, made before any other LLVM object so
// that a user error leaves nothing to dispose. Position-independent code:
// executables are PIE, Android requires it, shared libraries need it.
static LLVMTargetMachineRef make_target_machine(const Target *t) {
  init_llvm_targets();
  LLVMTargetRef target;
  char *err = NULL;
  if (LLVMGetTargetFromTriple(t->triple, &target, &err)) {
    char why[256];
    snprintf(why, sizeof why, "%s", err ? err : "unknown target");
    LLVMDisposeMessage(err);
    gh_error("--target %s: LLVM has no target for it: %s", t->triple, why);
  }
  LLVMDisposeMessage(err);
  LLVMTargetMachineRef tm = LLVMCreateTargetMachine(
      target, t->triple, t->llvm_cpu, "", LLVMCodeGenLevelAggressive,
      LLVMRelocPIC, LLVMCodeModelDefault);
  if (!tm)
    gh_error("--target %s --cpu %s: LLVM cannot generate code for it",
             t->triple, t->cpu);
  return tm;
}

// The kernels' module, retargeted: the triple as given (aarch64-linux-android
// reuses the aarch64-linux-gnu bitcode), the data layout and CPU of the
// target machine.
static LLVMModuleRef load_runtime(Emitter *e, const Target *t,
                                  LLVMTargetMachineRef tm) {
  const RuntimeBitcode *rb = runtime_module(t);
  LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRange(
      (const char *)rb->bytes, rb->len, rb->name, 0);
  LLVMModuleRef mod = NULL;
  bool failed = LLVMParseBitcodeInContext2(e->ctx, buf, &mod);
  LLVMDisposeMemoryBuffer(buf);
  gh_assert(!failed && "embedded runtime bitcode does not parse");

  LLVMSetModuleIdentifier(mod, e->id, strlen(e->id));
  LLVMSetSourceFileName(mod, e->id, strlen(e->id));
  char *triple = LLVMNormalizeTargetTriple(t->triple);
  LLVMSetTarget(mod, triple);
  LLVMDisposeMessage(triple);
  LLVMTargetDataRef layout = LLVMCreateTargetDataLayout(tm);
  LLVMSetModuleDataLayout(mod, layout);
  e->intptr = LLVMIntPtrTypeInContext(e->ctx, layout);
  LLVMDisposeTargetData(layout);

  // The kernels were compiled for the instruction set's baseline CPU; a
  // named --cpu (cortex-a76, ...) tunes them, and the features they were
  // built with stay.
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f;
       f = LLVMGetNextFunction(f))
    if (!LLVMIsDeclaration(f)) {
      LLVMAddAttributeAtIndex(
          f, LLVMAttributeFunctionIndex,
          LLVMCreateStringAttribute(e->ctx, "target-cpu", 10, t->llvm_cpu,
                                    (unsigned)strlen(t->llvm_cpu)));
      if (!e->attrs_from)
        e->attrs_from = f;
    }
  gh_assert(e->attrs_from);
  return mod;
}

// The provenance, one metadata string per line: !ghostcc.provenance in the
// .ll and .bc (an object has no place for comments).
static void add_provenance(Emitter *e, const char *provenance) {
  for (const char *line = provenance; *line;) {
    const char *end = strchr(line, '\n');
    size_t n = end ? (size_t)(end - line) : strlen(line);
    LLVMMetadataRef text = LLVMMDStringInContext2(e->ctx, line, n);
    LLVMMetadataRef node = LLVMMDNodeInContext2(e->ctx, &text, 1);
    LLVMAddNamedMetadataOperand(e->mod, "ghostcc.provenance",
                                LLVMMetadataAsValue(e->ctx, node));
    line += end ? n + 1 : n;
  }
}

// Every parameter in one constant array, as little-endian bytes: the C API
// builds a byte array from a buffer at once, where a float array would need
// a constant per element (GhostNet: 5.2 million).
static void add_weights(Emitter *e) {
  const Schedule *s = e->s;
  if (s->weight_floats == 0)
    return;
  size_t n_bytes;
  gh_assert(size_mul(s->weight_floats, 4, &n_bytes));
  unsigned char *bytes = arena_alloc(e->arena, n_bytes);
  for (size_t k = 0; k < s->weight_floats; k++) {
    uint32_t bits;
    memcpy(&bits, &s->weights[k], 4);
    for (int j = 0; j < 4; j++)
      bytes[k * 4 + (size_t)j] = (unsigned char)(bits >> (8 * j));
  }
  LLVMValueRef init =
      LLVMConstStringInContext2(e->ctx, (const char *)bytes, n_bytes, 1);
  e->weights = LLVMAddGlobal(e->mod, LLVMTypeOf(init),
                             arena_printf(e->arena, "%s_weights", e->id));
  LLVMSetInitializer(e->weights, init);
  LLVMSetGlobalConstant(e->weights, 1);
  LLVMSetLinkage(e->weights, LLVMInternalLinkage);
  LLVMSetUnnamedAddress(e->weights, LLVMGlobalUnnamedAddr);
  LLVMSetAlignment(e->weights, GH_ARENA_ALIGN);
}

static void add_enum_attr(Emitter *e, LLVMValueRef f, LLVMAttributeIndex at,
                          const char *name, uint64_t value) {
  unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
  gh_assert(kind != 0);
  LLVMAddAttributeAtIndex(f, at, LLVMCreateEnumAttribute(e->ctx, kind, value));
}

// A new function with the kernels' string attributes, so that LLVM may
// inline them into it and generates it for the same CPU.
static LLVMValueRef add_function(Emitter *e, const char *name,
                                 LLVMTypeRef type) {
  LLVMValueRef f = LLVMAddFunction(e->mod, name, type);
  unsigned n =
      LLVMGetAttributeCountAtIndex(e->attrs_from, LLVMAttributeFunctionIndex);
  LLVMAttributeRef *attrs = arena_array(e->arena, n ? n : 1, sizeof *attrs);
  LLVMGetAttributesAtIndex(e->attrs_from, LLVMAttributeFunctionIndex, attrs);
  for (unsigned i = 0; i < n; i++)
    if (LLVMIsStringAttribute(attrs[i]))
      LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex, attrs[i]);
  add_enum_attr(e, f, LLVMAttributeFunctionIndex, "nounwind", 0);
  // Asynchronous unwind tables, as gcc and clang give C functions by
  // default: debuggers and profilers walk the stack through the model.
  add_enum_attr(e, f, LLVMAttributeFunctionIndex, "uwtable", 2);
  return f;
}

// The three buffers as the layers see them: never NULL, the arena 64-byte
// aligned (NAME_run checked both), each as large as NAME.h says.
static void describe_buffers(Emitter *e, LLVMValueRef f) {
  const Value *in = &e->g->values[e->g->input];
  const Value *out = &e->g->values[e->g->output];
  const uint64_t bytes[3] = {value_count(in) * 4, value_count(out) * 4,
                             e->plan->arena_bytes};
  for (unsigned k = 0; k < 3; k++) {
    add_enum_attr(e, f, k + 1, "nonnull", 0);
    add_enum_attr(e, f, k + 1, "noundef", 0);
    if (bytes[k])
      add_enum_attr(e, f, k + 1, "dereferenceable", bytes[k]);
  }
  add_enum_attr(e, f, 3, "align", GH_ARENA_ALIGN);
}

// One argument of a kernel call, of the kernel's parameter type; bases are
// the layer's input, output and arena.
static LLVMValueRef build_arg(Emitter *e, const Arg *a, LLVMTypeRef type,
                              LLVMValueRef bases[3]) {
  LLVMTypeKind kind = LLVMGetTypeKind(type);
  switch (a->kind) {
  case ARG_INT: {
    gh_assert(kind == LLVMIntegerTypeKind);
    unsigned width = LLVMGetIntTypeWidth(type);
    gh_assert(width == 64 || (a->value >= -((int64_t)1 << (width - 1)) &&
                              a->value < ((int64_t)1 << (width - 1))));
    return LLVMConstInt(type, (unsigned long long)a->value, 1);
  }
  case ARG_FLOAT:
    gh_assert(kind == LLVMFloatTypeKind);
    return LLVMConstReal(type, a->f);
  case ARG_NULL:
    gh_assert(kind == LLVMPointerTypeKind);
    return LLVMConstPointerNull(type);
  case ARG_INPUT:
  case ARG_OUTPUT:
  case ARG_ARENA:
  case ARG_WEIGHTS: {
    gh_assert(kind == LLVMPointerTypeKind && a->value >= 0);
    LLVMValueRef base = a->kind == ARG_INPUT    ? bases[0]
                        : a->kind == ARG_OUTPUT ? bases[1]
                        : a->kind == ARG_ARENA  ? bases[2]
                                                : e->weights;
    gh_assert(base);
    if (a->value == 0)
      return base;
    LLVMValueRef at = LLVMConstInt(e->intptr, (unsigned long long)a->value, 0);
    return LLVMBuildInBoundsGEP2(e->b, e->f32, base, &at, 1, "");
  }
  }
  gh_assert(!"unknown argument kind");
  return NULL;
}

static LLVMBasicBlockRef new_block(Emitter *e, LLVMValueRef f,
                                   const char *name) {
  return LLVMAppendBasicBlockInContext(e->ctx, f, name);
}

// Schedule entry k as its own function of (input, output, arena): the
// kernel called with constants and inlined, so that LLVM folds the shapes.
static LLVMValueRef add_layer(Emitter *e, int k, const Call *c,
                              LLVMTypeRef layer_type) {
  LLVMValueRef kernel = LLVMGetNamedFunction(e->mod, c->kernel);
  gh_assert(kernel && !LLVMIsDeclaration(kernel) &&
            "kernel missing from the runtime bitcode");
  LLVMTypeRef type = LLVMGlobalGetValueType(kernel);
  unsigned n = LLVMCountParamTypes(type);
  gh_assert(n == (unsigned)c->n_args && "kernel called with a wrong count");
  LLVMTypeRef params[MAX_CALL_ARGS];
  LLVMGetParamTypes(type, params);

  LLVMValueRef f = add_function(
      e, arena_printf(e->arena, "%s_call%d_%s", e->id, k, c->kernel),
      layer_type);
  LLVMSetLinkage(f, LLVMInternalLinkage);
  add_enum_attr(e, f, LLVMAttributeFunctionIndex, "noinline", 0);
  describe_buffers(e, f);
  LLVMPositionBuilderAtEnd(e->b, new_block(e, f, "entry"));
  LLVMValueRef bases[3] = {LLVMGetParam(f, 0), LLVMGetParam(f, 1),
                           LLVMGetParam(f, 2)};
  LLVMValueRef args[MAX_CALL_ARGS];
  for (unsigned i = 0; i < n; i++)
    args[i] = build_arg(e, &c->args[i], params[i], bases);
  LLVMValueRef call = LLVMBuildCall2(e->b, type, kernel, args, n, "");
  unsigned always = LLVMGetEnumAttributeKindForName("alwaysinline", 12);
  LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex,
                           LLVMCreateEnumAttribute(e->ctx, always, 0));
  LLVMBuildRetVoid(e->b);
  return f;
}

// NAME_run: 1 (NAME_ERR_NULL) for a NULL pointer, 2 (NAME_ERR_ALIGN) for a
// misaligned arena, else every layer in order and 0 (NAME_OK), as the C
// backend's.
static LLVMValueRef add_run(Emitter *e) {
  LLVMTypeRef params[3] = {e->ptr, e->ptr, e->ptr};
  LLVMTypeRef layer_type =
      LLVMFunctionType(LLVMVoidTypeInContext(e->ctx), params, 3, 0);
  LLVMValueRef *layers =
      arena_array(e->arena, (size_t)e->s->n_calls + 1, sizeof *layers);
  for (int k = 0; k < e->s->n_calls; k++)
    if (e->s->calls[k].kernel)
      layers[k] = add_layer(e, k, &e->s->calls[k], layer_type);

  // A kernel that happens to have NAME_run's name steps aside (it becomes
  // internal anyway).
  const char *name = arena_printf(e->arena, "%s_run", e->id);
  LLVMValueRef taken = LLVMGetNamedFunction(e->mod, name);
  if (taken)
    LLVMSetValueName2(taken, "ghr_renamed", 11);
  LLVMValueRef run =
      add_function(e, name, LLVMFunctionType(e->i32, params, 3, 0));
  LLVMValueRef in = LLVMGetParam(run, 0), out = LLVMGetParam(run, 1),
               arena = LLVMGetParam(run, 2);
  LLVMSetValueName2(in, "input", 5);
  LLVMSetValueName2(out, "output", 6);
  LLVMSetValueName2(arena, "arena", 5);
  LLVMBasicBlockRef entry = new_block(e, run, "entry"),
                    null = new_block(e, run, "null"),
                    aligned = new_block(e, run, "check_align"),
                    misaligned = new_block(e, run, "misaligned"),
                    body = new_block(e, run, "layers");
  LLVMBuilderRef b = e->b;
  LLVMPositionBuilderAtEnd(b, entry);
  LLVMValueRef any_null = LLVMBuildOr(
      b,
      LLVMBuildOr(b, LLVMBuildIsNull(b, in, ""), LLVMBuildIsNull(b, out, ""),
                  ""),
      LLVMBuildIsNull(b, arena, ""), "any_null");
  LLVMBuildCondBr(b, any_null, null, aligned);
  LLVMPositionBuilderAtEnd(b, null);
  LLVMBuildRet(b, LLVMConstInt(e->i32, 1, 0));
  LLVMPositionBuilderAtEnd(b, aligned);
  LLVMValueRef low = LLVMBuildAnd(
      b, LLVMBuildPtrToInt(b, arena, e->intptr, ""),
      LLVMConstInt(e->intptr, GH_ARENA_ALIGN - 1, 0), "misalignment");
  LLVMBuildCondBr(b, LLVMBuildIsNotNull(b, low, ""), misaligned, body);
  LLVMPositionBuilderAtEnd(b, misaligned);
  LLVMBuildRet(b, LLVMConstInt(e->i32, 2, 0));
  LLVMPositionBuilderAtEnd(b, body);
  LLVMValueRef args[3] = {in, out, arena};
  for (int k = 0; k < e->s->n_calls; k++)
    if (e->s->calls[k].kernel)
      LLVMBuildCall2(b, layer_type, layers[k], args, 3, "");
  LLVMBuildRet(b, LLVMConstInt(e->i32, 0, 0));
  return run;
}

// Everything but NAME_run becomes internal, so two models (or a model and
// a program defining ghr_conv2d) link into one program; -O3 then deletes
// the kernels no layer calls.
static void internalise(Emitter *e, LLVMValueRef run) {
  for (LLVMValueRef f = LLVMGetFirstFunction(e->mod); f;
       f = LLVMGetNextFunction(f))
    if (f != run && !LLVMIsDeclaration(f))
      LLVMSetLinkage(f, LLVMInternalLinkage);
  for (LLVMValueRef v = LLVMGetFirstGlobal(e->mod); v;
       v = LLVMGetNextGlobal(v)) {
    size_t len;
    const char *name = LLVMGetValueName2(v, &len);
    if (!LLVMIsDeclaration(v) && strncmp(name, "llvm.", 5) != 0)
      LLVMSetLinkage(v, LLVMInternalLinkage);
  }
}

// A module that does not verify is a bug in this file.
static void verify(LLVMModuleRef mod) {
  char *msg = NULL;
  if (LLVMVerifyModule(mod, LLVMReturnStatusAction, &msg)) {
    fprintf(stderr, "ghostcc: invalid LLVM module:\n%s\n", msg ? msg : "");
    gh_assert(!"the LLVM module verifies");
  }
  LLVMDisposeMessage(msg);
}

// -O3 with both vectorisers, as clang -O3 runs it.
static void optimise(LLVMModuleRef mod, LLVMTargetMachineRef tm) {
  LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
  LLVMPassBuilderOptionsSetLoopVectorization(opts, 1);
  LLVMPassBuilderOptionsSetSLPVectorization(opts, 1);
  LLVMPassBuilderOptionsSetLoopInterleaving(opts, 1);
  LLVMPassBuilderOptionsSetLoopUnrolling(opts, 1);
  LLVMErrorRef err = LLVMRunPasses(mod, "default<O3>", tm, opts);
  LLVMDisposePassBuilderOptions(opts);
  if (err) {
    char *msg = LLVMGetErrorMessage(err);
    fprintf(stderr, "ghostcc: LLVM's -O3 pipeline failed: %s\n", msg);
    LLVMDisposeErrorMessage(msg);
    gh_assert(!"the -O3 pipeline runs");
  }
}

static void add_file(Emitter *e, Output *out, const char *ext,
                     const char *data, size_t len) {
  gh_assert(out->n_files < MAX_OUT_FILES);
  char *copy = arena_alloc(e->arena, len + 1);
  memcpy(copy, data, len);
  out->files[out->n_files++] =
      (OutFile){arena_printf(e->arena, "%s.%s", e->id, ext), copy, len};
}

static void write_module(Emitter *e, LLVMTargetMachineRef tm, EmitKind kind,
                         Output *out) {
  switch (kind) {
  case EMIT_LLVM: {
    char *text = LLVMPrintModuleToString(e->mod);
    add_file(e, out, "ll", text, strlen(text));
    LLVMDisposeMessage(text);
    return;
  }
  case EMIT_BC: {
    LLVMMemoryBufferRef buf = LLVMWriteBitcodeToMemoryBuffer(e->mod);
    add_file(e, out, "bc", LLVMGetBufferStart(buf), LLVMGetBufferSize(buf));
    LLVMDisposeMemoryBuffer(buf);
    return;
  }
  case EMIT_OBJ:
  case EMIT_ASM: {
    LLVMMemoryBufferRef buf = NULL;
    char *err = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(
            tm, e->mod, kind == EMIT_OBJ ? LLVMObjectFile : LLVMAssemblyFile,
            &err, &buf)) {
      fprintf(stderr, "ghostcc: LLVM code generation failed: %s\n",
              err ? err : "");
      gh_assert(!"LLVM generates the code");
    }
    LLVMDisposeMessage(err);
    add_file(e, out, kind == EMIT_OBJ ? "o" : "s", LLVMGetBufferStart(buf),
             LLVMGetBufferSize(buf));
    LLVMDisposeMemoryBuffer(buf);
    return;
  }
  case EMIT_C: break;
  }
  gh_assert(!"emit_llvm: not an LLVM output kind");
}

void emit_llvm(const Graph *g, const MemPlan *plan, const Schedule *s,
               const Target *t, EmitKind kind, const char *provenance,
               Output *out) {
  Emitter e = {.g = g, .plan = plan, .s = s, .arena = g->arena};
  e.id = c_identifier(g->arena, g->name);
  LLVMTargetMachineRef tm = make_target_machine(t);
  emit_header(g, plan, provenance, out);

  e.ctx = LLVMContextCreate();
  e.f32 = LLVMFloatTypeInContext(e.ctx);
  e.i32 = LLVMInt32TypeInContext(e.ctx);
  e.ptr = LLVMPointerTypeInContext(e.ctx, 0);
  e.b = LLVMCreateBuilderInContext(e.ctx);
  e.mod = load_runtime(&e, t, tm);
  add_provenance(&e, provenance);
  add_weights(&e);
  internalise(&e, add_run(&e));
  verify(e.mod);
  optimise(e.mod, tm);
  write_module(&e, tm, kind, out);

  LLVMDisposeBuilder(e.b);
  LLVMDisposeModule(e.mod);
  LLVMContextDispose(e.ctx);
  LLVMDisposeTargetMachine(tm);
}
