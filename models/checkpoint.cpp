#include "models/checkpoint.h"

#include "engine/param_io.h"

namespace dg {

static std::string d_prefix(int i) { return "D" + std::to_string(i) + "."; }

void save_checkpoint(Context& ctx, GanTrainer& trainer, const std::string& path, const std::string& config_json,
                     const Metadata& extra) {
  SafeTensors st;
  st.metadata = extra;
  auto save_net = [&](Network& net, const std::string& prefix, const std::string& adam) {
    save_store(ctx, net.params, StorePart::state, prefix, st);
    save_store(ctx, net.params, StorePart::exp_avg, "adam." + adam + ".exp_avg.", st);
    save_store(ctx, net.params, StorePart::exp_avg_sq, "adam." + adam + ".exp_avg_sq.", st);
  };
  save_net(trainer.generator(), "", "G");
  for (int i = 0; i < int(trainer.discriminators().size()); i++)
    save_net(trainer.discriminators()[i], d_prefix(i), "D" + std::to_string(i));
  st.metadata["format"] = "dg-checkpoint";
  st.metadata["format_version"] = "1";
  st.metadata["step"] = std::to_string(trainer.step());
  st.metadata["discriminators"] = std::to_string(trainer.discriminators().size());
  st.metadata["config"] = config_json;
  write_safetensors(path, st);
}

CheckpointInfo checkpoint_info(const SafeTensors& st, const std::string& path) {
  auto it = st.metadata.find("format");
  DG_CHECK(it != st.metadata.end() && it->second == "dg-checkpoint", path, ": not a dg checkpoint (no format metadata)");
  DG_CHECK(st.meta("format_version") == "1", path, ": checkpoint format version ", st.meta("format_version"),
           " is not supported (this dg reads 1)");
  CheckpointInfo info;
  try {
    info.step = std::stoll(st.meta("step"));
  } catch (const std::exception&) {
    DG_FAIL(path, ": bad step '", st.meta("step"), "' in the checkpoint metadata");
  }
  DG_CHECK(info.step >= 0, path, ": negative step ", info.step);
  info.config_json = st.meta("config");
  info.metadata = st.metadata;
  info.checksummed = st.checksummed;
  return info;
}

CheckpointInfo read_checkpoint_info(const std::string& path) { return checkpoint_info(read_safetensors(path), path); }

std::string unverified_note(const CheckpointInfo& info, const std::string& path) {
  return info.checksummed ? ""
                          : path + " carries no checksums (an older dg wrote it): loaded without verifying its bytes";
}

CheckpointInfo load_checkpoint(Context& ctx, GanTrainer& trainer, const std::string& path) {
  return load_checkpoint(ctx, trainer, read_safetensors(path), path);
}

CheckpointInfo load_checkpoint(Context& ctx, GanTrainer& trainer, const SafeTensors& st, const std::string& path) {
  const CheckpointInfo info = checkpoint_info(st, path);
  const int K = int(trainer.discriminators().size());
  DG_CHECK(st.meta("discriminators") == std::to_string(K), path, ": the checkpoint has ", st.meta("discriminators"),
           " discriminators, this run ", K);
  auto load_net = [&](Network& net, const std::string& prefix, const std::string& adam) {
    load_store(ctx, net.params, StorePart::state, prefix, st);
    load_store(ctx, net.params, StorePart::exp_avg, "adam." + adam + ".exp_avg.", st);
    load_store(ctx, net.params, StorePart::exp_avg_sq, "adam." + adam + ".exp_avg_sq.", st);
  };
  try {
    load_net(trainer.generator(), "", "G");
    for (int i = 0; i < K; i++) load_net(trainer.discriminators()[i], d_prefix(i), "D" + std::to_string(i));
  } catch (const Error& e) {
    DG_FAIL(path, ": ", e.what());
  }
  trainer.set_step(info.step);
  return info;
}

}  // namespace dg
