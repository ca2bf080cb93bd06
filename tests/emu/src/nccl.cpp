// NCCL across processes: each rank (an MPI process) has its own emulated device; the ranks of
// a communicator meet in a POSIX shared-memory segment named by the unique id. (Ranks as
// threads of one process are not supported: a collective waits for its peers holding the
// process's device lock, which the other thread would need.)
//
// A collective queues on its stream like a kernel and runs when the stream reaches it (NCCL
// documentation: "collective operations are executed in stream order"). It then waits for
// every rank to reach the same collective: each rank posts a description (operation,
// reduction, type, count, root) and its data in chunks; a rank whose description differs from
// rank 0's at the same position aborts the run naming both ("all ranks must call the same
// collectives in the same order"). Results are computed by every rank from all ranks' data in
// rank order, so all ranks hold the same bits. A rank that waits longer than DGEMU_NCCL_TIMEOUT_S
// (default 120) for the others records ncclSystemError as the communicator's asynchronous
// error (ncclCommGetAsyncError), as does an injected failure (DGEMU_NCCL_FAIL_AT, introspect.h);
// after ncclCommAbort of any rank the others' waits end with ncclRemoteError.
#include <nccl.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include "dgemu/introspect.h"
#include "emu.h"

namespace dgemu {
namespace {

constexpr size_t kChunkBytes = size_t(4) << 20;
constexpr const char* kIdTag = "dgemu-nccl:";

struct Desc {
  int kind;  // 0 all-reduce, 1 broadcast
  int op, type, root;
  uint64_t count, chunk;
  bool operator==(const Desc&) const = default;
};

struct alignas(64) Slot {
  std::atomic<uint64_t> posted;    // the collective step whose data this slot holds
  std::atomic<uint64_t> consumed;  // the last step this rank finished reading
  Desc desc;
  char data[kChunkBytes];
};

struct Header {
  std::atomic<int> nranks;
  std::atomic<int> joined;
  std::atomic<int> aborted;
};

constexpr size_t kHeaderBytes = 64;  // the slots start 64-byte aligned
static_assert(sizeof(Header) <= kHeaderBytes && sizeof(Slot) % 64 == 0);
size_t segment_bytes(int nranks) { return kHeaderBytes + size_t(nranks) * sizeof(Slot); }

// A communicator's state; queued collectives keep it alive after an abort.
struct State {
  int rank = 0, nranks = 1;
  std::string name;  // the shared-memory segment
  void* base = nullptr;
  size_t bytes = 0;
  uint64_t step = 0;         // collective chunk steps so far
  uint64_t collectives = 0;  // collectives run so far
  uint64_t fail_at = 0;
  std::atomic<int> async_error{ncclSuccess};
  std::atomic<bool> aborted{false};
  std::string last_error;
  Header* header() { return static_cast<Header*>(base); }
  Slot* slot(int r) {
    return reinterpret_cast<Slot*>(static_cast<char*>(base) + kHeaderBytes + size_t(r) * sizeof(Slot));
  }
  ~State() {
    if (base) munmap(base, bytes);
  }
};

std::atomic<uint64_t> g_fail_at{0};
std::set<ncclComm_t>& comms() {
  static auto* s = new std::set<ncclComm_t>;
  return *s;
}
thread_local std::string tl_detail;
thread_local ncclResult_t tl_detail_code = ncclSuccess;

ncclResult_t nccl_fail(ncclResult_t code, const std::string& why) {
  tl_detail = why;
  tl_detail_code = code;
  return code;
}

double timeout_s() {
  static const double t = [] {
    const char* e = std::getenv("DGEMU_NCCL_TIMEOUT_S");
    return e ? std::atof(e) : 120.0;
  }();
  return t;
}

// Waits until pred() holds; false after an abort by another rank or the timeout (then the
// communicator's asynchronous error is set).
template <class Pred>
bool wait_for(State& s, Pred pred, const char* what) {
  const auto start = std::chrono::steady_clock::now();
  for (int spins = 0; !pred(); spins++) {
    if (s.header()->aborted.load()) {
      s.async_error = ncclRemoteError;
      s.last_error = std::string("another rank aborted the communicator while rank ") + std::to_string(s.rank) +
                     " waited for " + what;
      return false;
    }
    if (spins > 100) std::this_thread::sleep_for(std::chrono::microseconds(50));
    else std::this_thread::yield();
    if (std::chrono::steady_clock::now() - start > std::chrono::duration<double>(timeout_s())) {
      s.async_error = ncclSystemError;
      s.last_error = "rank " + std::to_string(s.rank) + " waited " + std::to_string(timeout_s()) + " s for " + what;
      std::fprintf(stderr, "dgemu: NCCL: %s\n", s.last_error.c_str());
      return false;
    }
  }
  return true;
}

size_t type_bytes(int type) { return type == ncclFloat64 || type == ncclInt64 ? 8 : 4; }

const char* op_name(int op) {
  switch (op) {
    case ncclSum: return "sum";
    case ncclProd: return "prod";
    case ncclMax: return "max";
    case ncclMin: return "min";
    case ncclAvg: return "avg";
  }
  return "?";
}
const char* type_name(int t) {
  switch (t) {
    case ncclFloat: return "float";
    case ncclDouble: return "double";
    case ncclInt32: return "int32";
    case ncclInt64: return "int64";
  }
  return "?";
}
std::string describe(const Desc& d) {
  return (d.kind == 0 ? std::string("ncclAllReduce(") + op_name(d.op) : std::string("ncclBroadcast(root ") + std::to_string(d.root)) +
         ", " + type_name(d.type) + ", " + std::to_string(d.count) + " elements)";
}

template <class T>
void reduce_into(T* out, State& s, size_t offset_elems, size_t n, int op) {
  for (size_t i = 0; i < n; i++) {
    T acc = reinterpret_cast<const T*>(s.slot(0)->data)[i];
    for (int r = 1; r < s.nranks; r++) {
      const T v = reinterpret_cast<const T*>(s.slot(r)->data)[i];
      acc = op == ncclProd ? T(acc * v) : op == ncclMax ? (v > acc ? v : acc) : op == ncclMin ? (v < acc ? v : acc) : T(acc + v);
    }
    if (op == ncclAvg) acc = T(acc / T(s.nranks));
    out[offset_elems + i] = acc;
  }
}

// One collective, run when its stream reaches it.
void run_collective(const std::shared_ptr<State>& sp, Desc d, const char* send, char* recv) {
  State& s = *sp;
  if (s.aborted || s.async_error != ncclSuccess) return;
  if (++s.collectives == s.fail_at) {
    s.async_error = ncclSystemError;
    s.last_error = "collective " + std::to_string(s.collectives) + " failed (injected by the emulator)";
    return;
  }
  const size_t esize = type_bytes(d.type), per_chunk = kChunkBytes / esize;
  const uint64_t chunks = d.count == 0 ? 0 : (d.count + per_chunk - 1) / per_chunk;
  for (uint64_t c = 0; c < chunks; c++) {
    const uint64_t step = ++s.step;
    const size_t first = size_t(c) * per_chunk, n = std::min<size_t>(per_chunk, d.count - first);
    d.chunk = c;
    // My slot may be rewritten once every rank has read the previous step.
    for (int r = 0; r < s.nranks; r++)
      if (!wait_for(s, [&] { return s.slot(r)->consumed.load() >= step - 1; }, "the previous collective's readers")) return;
    Slot* mine = s.slot(s.rank);
    mine->desc = d;
    if (d.kind == 0 || s.rank == d.root) std::memcpy(mine->data, send + first * esize, n * esize);
    mine->posted.store(step);
    for (int r = 0; r < s.nranks; r++)
      if (!wait_for(s, [&] { return s.slot(r)->posted.load() >= step; }, describe(d).c_str())) return;
    for (int r = 0; r < s.nranks; r++)
      if (!(s.slot(r)->desc == s.slot(0)->desc))
        fatal("NCCL: collectives out of order: as collective " + std::to_string(s.collectives) + ", rank 0 issued " +
              describe(s.slot(0)->desc) + " and rank " + std::to_string(r) + " issued " + describe(s.slot(r)->desc));
    if (d.kind == 1) {
      std::memcpy(recv + first * esize, s.slot(d.root)->data, n * esize);
    } else if (d.type == ncclFloat) {
      reduce_into(reinterpret_cast<float*>(recv), s, first, n, d.op);
    } else if (d.type == ncclDouble) {
      reduce_into(reinterpret_cast<double*>(recv), s, first, n, d.op);
    } else if (d.type == ncclInt32) {
      reduce_into(reinterpret_cast<int32_t*>(recv), s, first, n, d.op);
    } else {
      reduce_into(reinterpret_cast<int64_t*>(recv), s, first, n, d.op);
    }
    mine->consumed.store(step);
  }
}

}  // namespace
}  // namespace dgemu

struct dgemu_nccl_comm {
  std::shared_ptr<dgemu::State> state;
};

using namespace dgemu;

extern "C" {

ncclResult_t ncclGetVersion(int* version) {
  if (!version) return ncclInvalidArgument;
  *version = NCCL_VERSION_CODE;
  return ncclSuccess;
}

const char* ncclGetErrorString(ncclResult_t result) {
  thread_local std::string text;
  switch (result) {
    case ncclSuccess: text = "no error"; break;
    case ncclUnhandledCudaError: text = "unhandled cuda error"; break;
    case ncclSystemError: text = "unhandled system error"; break;
    case ncclInternalError: text = "internal error"; break;
    case ncclInvalidArgument: text = "invalid argument"; break;
    case ncclInvalidUsage: text = "invalid usage"; break;
    case ncclRemoteError: text = "remote process exited or there was a network error"; break;
    case ncclInProgress: text = "NCCL operation in progress"; break;
    default: text = "unknown result code";
  }
  if (result == tl_detail_code && !tl_detail.empty()) text += " [dgemu: " + tl_detail + "]";
  return text.c_str();
}

const char* ncclGetLastError(ncclComm_t comm) {
  Lock lock(device_mutex());
  if (comm && comms().count(comm) && !comm->state->last_error.empty()) return comm->state->last_error.c_str();
  return tl_detail.c_str();
}

ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  if (!id) return nccl_fail(ncclInvalidArgument, "ncclGetUniqueId: id is null");
  std::memset(id->internal, 0, sizeof id->internal);
  std::random_device rd;
  std::snprintf(id->internal, sizeof id->internal, "%s%08x%08x%d", kIdTag, rd(), rd(), int(getpid()));
  return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId id, int rank) {
  if (!comm) return nccl_fail(ncclInvalidArgument, "ncclCommInitRank: comm is null");
  *comm = nullptr;
  if (nranks < 1 || rank < 0 || rank >= nranks)
    return nccl_fail(ncclInvalidArgument, "ncclCommInitRank: rank " + std::to_string(rank) + " of " + std::to_string(nranks));
  if (std::strncmp(id.internal, kIdTag, std::strlen(kIdTag)) != 0 || !std::memchr(id.internal, 0, sizeof id.internal))
    return nccl_fail(ncclInvalidArgument, "ncclCommInitRank: the unique id was not made by ncclGetUniqueId");
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess)
    return nccl_fail(ncclUnhandledCudaError, "ncclCommInitRank: the CUDA runtime failed");
  auto s = std::make_shared<State>();
  s->rank = rank;
  s->nranks = nranks;
  s->fail_at = g_fail_at.load();
  if (const char* e = std::getenv("DGEMU_NCCL_FAIL_AT")) s->fail_at = std::strtoull(e, nullptr, 10);
  s->name = "/" + std::string(id.internal + std::strlen(kIdTag));
  s->name.insert(1, "dgemu-nccl-");
  const int fd = shm_open(s->name.c_str(), O_CREAT | O_RDWR, 0600);
  if (fd < 0) return nccl_fail(ncclSystemError, "ncclCommInitRank: shm_open(" + s->name + ") failed");
  s->bytes = segment_bytes(nranks);
  if (ftruncate(fd, off_t(s->bytes)) != 0) {
    close(fd);
    return nccl_fail(ncclSystemError, "ncclCommInitRank: cannot size the shared segment");
  }
  s->base = mmap(nullptr, s->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (s->base == MAP_FAILED) {
    s->base = nullptr;
    return nccl_fail(ncclSystemError, "ncclCommInitRank: cannot map the shared segment");
  }
  Header* h = s->header();
  int expected = 0;
  if (!h->nranks.compare_exchange_strong(expected, nranks) && expected != nranks)
    return nccl_fail(ncclInvalidArgument, "ncclCommInitRank: rank " + std::to_string(rank) + " says " +
                                              std::to_string(nranks) + " ranks, another said " + std::to_string(expected));
  h->joined.fetch_add(1);
  if (!wait_for(*s, [&] { return h->joined.load() >= nranks; }, "the other ranks to join"))
    return nccl_fail(ncclSystemError, "ncclCommInitRank: " + s->last_error);
  if (rank == 0) shm_unlink(s->name.c_str());  // every rank has it mapped now
  Lock lock(device_mutex());
  *comm = new dgemu_nccl_comm{s};
  comms().insert(*comm);
  if (nranks > 1) start_background_progress();
  return ncclSuccess;
}

// Finishes the queued work first (ncclCommFinalize's flush), then frees the communicator.
ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  Lock lock(device_mutex());
  if (!comm || !comms().count(comm)) return nccl_fail(ncclInvalidArgument, "ncclCommDestroy: not a live communicator");
  synchronize_device("ncclCommDestroy");
  comms().erase(comm);
  delete comm;
  return ncclSuccess;
}

// Abandons the queued collectives of this communicator and tells the other ranks.
ncclResult_t ncclCommAbort(ncclComm_t comm) {
  Lock lock(device_mutex());
  if (!comm || !comms().count(comm)) return nccl_fail(ncclInvalidArgument, "ncclCommAbort: not a live communicator");
  comm->state->aborted = true;
  comm->state->header()->aborted.store(1);
  comms().erase(comm);
  delete comm;
  return ncclSuccess;
}

ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t* asyncError) {
  Lock lock(device_mutex());
  if (!comm || !comms().count(comm) || !asyncError) return nccl_fail(ncclInvalidArgument, "ncclCommGetAsyncError");
  *asyncError = ncclResult_t(comm->state->async_error.load());
  return ncclSuccess;
}

ncclResult_t ncclCommCount(ncclComm_t comm, int* count) {
  if (!comm || !count) return ncclInvalidArgument;
  *count = comm->state->nranks;
  return ncclSuccess;
}

ncclResult_t ncclCommUserRank(ncclComm_t comm, int* rank) {
  if (!comm || !rank) return ncclInvalidArgument;
  *rank = comm->state->rank;
  return ncclSuccess;
}

// Collectives are queued in the order they are called, grouped or not.
ncclResult_t ncclGroupStart(void) { return ncclSuccess; }
ncclResult_t ncclGroupEnd(void) { return ncclSuccess; }

namespace {

ncclResult_t queue(const char* call, Desc d, const void* send, void* recv, ncclComm_t comm, cudaStream_t stream) {
  Lock lock(device_mutex());
  if (!comm || !comms().count(comm)) return nccl_fail(ncclInvalidArgument, std::string(call) + ": not a live communicator");
  if (d.type != ncclFloat && d.type != ncclDouble && d.type != ncclInt32 && d.type != ncclInt64)
    return nccl_fail(ncclInvalidArgument, std::string(call) + ": data type " + std::to_string(d.type));
  if (d.op < ncclSum || d.op > ncclAvg) return nccl_fail(ncclInvalidArgument, std::string(call) + ": reduction " + std::to_string(d.op));
  State& s = *comm->state;
  if (d.kind == 1 && (d.root < 0 || d.root >= s.nranks))
    return nccl_fail(ncclInvalidArgument, std::string(call) + ": root " + std::to_string(d.root));
  const size_t bytes = d.count * type_bytes(d.type);
  if (bytes) {
    if (d.kind == 0 || s.rank == d.root)
      if (std::string why = check_device_range(send, bytes); !why.empty())
        return nccl_fail(ncclInvalidArgument, std::string(call) + ": sendbuff: " + why);
    if (std::string why = check_device_range(recv, bytes); !why.empty())
      return nccl_fail(ncclInvalidArgument, std::string(call) + ": recvbuff: " + why);
  }
  Stream* st = stream_of(stream, call);
  if (!st) return nccl_fail(ncclInvalidArgument, std::string(call) + ": not a live stream");
  std::shared_ptr<State> sp = comm->state;
  const char* snd = static_cast<const char*>(send);
  char* rcv = static_cast<char*>(recv);
  if (enqueue(st, describe(d), [sp, d, snd, rcv] { run_collective(sp, d, snd, rcv); }) != cudaSuccess)
    return nccl_fail(ncclUnhandledCudaError, std::string(call) + ": " + cudaGetErrorString(cudaGetLastError()));
  return ncclSuccess;
}

}  // namespace

ncclResult_t ncclAllReduce(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t datatype,
                           ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream) {
  return queue("ncclAllReduce", Desc{0, int(op), int(datatype), 0, count, 0}, sendbuff, recvbuff, comm, stream);
}

ncclResult_t ncclBroadcast(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t datatype, int root,
                           ncclComm_t comm, cudaStream_t stream) {
  return queue("ncclBroadcast", Desc{1, 0, int(datatype), root, count, 0}, sendbuff, recvbuff, comm, stream);
}

size_t dgemu_live_streams(void) {
  Lock lock(device_mutex());
  return live_streams();
}
size_t dgemu_live_events(void) {
  Lock lock(device_mutex());
  return live_events();
}
size_t dgemu_live_device_allocations(void) {
  Lock lock(device_mutex());
  return live_allocations(MemKind::device);
}
size_t dgemu_live_nccl_comms(void) {
  Lock lock(device_mutex());
  return comms().size();
}
void dgemu_nccl_fail_at(unsigned long long n) { g_fail_at = n; }

}  // extern "C"
