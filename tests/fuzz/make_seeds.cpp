// Writes the seed corpora of the fuzz harnesses (tests/fuzz/corpus/<harness>/): small valid
// files of every variant each parser reads. Run once after changing it, and commit the files:
//   ./build/tests/fuzz/fuzz_make_seeds tests/fuzz/corpus
#define DOCTEST_CONFIG_DISABLE  // the writers below use none of doctest's checks
#pragma GCC diagnostic ignored "-Wunused-parameter"  // what DOCTEST_CONFIG_DISABLE leaves unused
#include <stb/stb_image_write.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

#include "tests/dataset_files.h"
#include "engine/safetensors.h"
#include "tools/run/train_options.h"

using namespace dg::test;

namespace {

void put(const std::string& path, const Bytes& b) {
  fs::create_directories(fs::path(path).parent_path());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(b.data(), 1, b.size(), f) != b.size()) std::abort();
  std::fclose(f);
}

Bytes deflate_with(const Bytes& in, int window_bits) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  Bytes out(deflateBound(&z, uLong(in.size())) + 64);
  z.next_in = const_cast<uint8_t*>(in.data());
  z.avail_in = uInt(in.size());
  z.next_out = out.data();
  z.avail_out = uInt(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}
Bytes gzip(const Bytes& in) { return deflate_with(in, 15 + 16); }

// A safetensors file as dg wrote it before checksums: the same file, that metadata entry gone.
Bytes without_checksums(const std::string& path) {
  const Bytes b = read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, b.data(), 8);
  nlohmann::json h = nlohmann::json::parse(b.begin() + 8, b.begin() + 8 + long(n));
  h["__metadata__"].erase("dg_checksums");
  std::string text = h.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  Bytes out(8);
  const uint64_t len = text.size();
  std::memcpy(out.data(), &len, 8);
  out.insert(out.end(), text.begin(), text.end());
  out.insert(out.end(), b.begin() + 8 + long(n), b.end());
  return out;
}

// A MAT-file miCOMPRESSED element holding `element` (zlib stream, no padding).
Bytes compressed(const Bytes& element) {
  Bytes z = deflate_with(element, 15), out;
  put_le32(out, kMatCompressed);
  put_le32(out, uint32_t(z.size()));
  out.insert(out.end(), z.begin(), z.end());
  return out;
}

Bytes svhn(int n, int channels, bool compress) {
  Bytes x = pattern_bytes(size_t(8) * 8 * channels * n), y(size_t(n) * 8);
  for (int i = 0; i < n; i++) {
    double label = 1 + i % 10;
    std::memcpy(y.data() + 8 * i, &label, 8);
  }
  Bytes mx = mat_matrix("X", 9, {8, 8, channels, n}, kMatUint8, x), my = mat_matrix("y", 6, {n, 1}, kMatDouble, y);
  return compress ? cat({mat_header(), compressed(mx), compressed(my)}) : cat({mat_header(), mx, my});
}

void write_image(const std::string& path, int w, int h, int c, const char* kind) {
  Bytes px = pattern_bytes(size_t(w) * h * c);
  fs::create_directories(fs::path(path).parent_path());
  int ok = 0;
  if (std::string(kind) == "png") ok = stbi_write_png(path.c_str(), w, h, c, px.data(), w * c);
  if (std::string(kind) == "bmp") ok = stbi_write_bmp(path.c_str(), w, h, c, px.data());
  if (std::string(kind) == "jpg") ok = stbi_write_jpg(path.c_str(), w, h, c, px.data(), 80);
  if (!ok) std::abort();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  // IDX: 3 bytes (labels? split low, split high), then the images file (and the labels file).
  const Bytes images = idx_file(0x0803, {2, 28, 28}, pattern_bytes(2 * 784)), labels = idx_file(0x0801, {2}, {3, 7});
  auto with_split = [](bool labels_too, size_t split) {
    return Bytes{uint8_t(labels_too), uint8_t(split & 0xff), uint8_t(split >> 8)};
  };
  put(dir + "/idx/images_raw", cat({with_split(false, 0), images}));
  put(dir + "/idx/images_labels_raw", cat({with_split(true, images.size()), images, labels}));
  const Bytes gz_images = gzip(images), gz_labels = gzip(labels);
  put(dir + "/idx/images_gz", cat({with_split(false, 0), gz_images}));
  put(dir + "/idx/images_labels_gz", cat({with_split(true, gz_images.size()), gz_images, gz_labels}));
  // CIFAR-10 (1 label byte + 3072) and CIFAR-100 (coarse, fine + 3072) records.
  put(dir + "/cifar/cifar10", cifar10_file(2));
  Bytes c100;
  for (int i = 0; i < 2; i++) {
    c100.push_back(uint8_t(i + 3));
    c100.push_back(uint8_t(i + 40));
    Bytes px = pattern_bytes(3072);
    c100.insert(c100.end(), px.begin(), px.end());
  }
  put(dir + "/cifar/cifar100", c100);
  // SVHN: 8x8 images (any size is read), RGB and grayscale, plain and compressed elements.
  put(dir + "/svhn_mat/rgb_plain", svhn(2, 3, false));
  put(dir + "/svhn_mat/rgb_compressed", svhn(2, 3, true));
  put(dir + "/svhn_mat/gray_plain", svhn(3, 1, false));
  // Images: PNG (gray, RGB, RGBA), BMP, JPEG; not square, so the crop runs.
  write_image(dir + "/image/gray.png", 5, 7, 1, "png");
  write_image(dir + "/image/rgb.png", 9, 6, 3, "png");
  write_image(dir + "/image/rgba.png", 6, 6, 4, "png");
  write_image(dir + "/image/rgb.bmp", 4, 5, 3, "bmp");
  write_image(dir + "/image/rgb.jpg", 9, 9, 3, "jpg");
  // safetensors: two tensors and metadata, as an older dg wrote them (no checksums: the
  // fuzzer reaches the shapes and offsets), and a checkpoint as dg writes it now.
  dg::SafeTensors st;
  st.tensors["main.0.weight"] = {{2, 1, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}};
  st.tensors["main.1.running_var"] = {{3}, {1, 1, 1}};
  st.metadata["format_version"] = "1";
  st.metadata["step"] = "12";
  fs::create_directories(dir + "/safetensors");
  dg::write_safetensors(dir + "/safetensors/two_tensors", st);
  put(dir + "/safetensors/two_tensors", without_checksums(dir + "/safetensors/two_tensors"));
  st.metadata["format"] = "dg-checkpoint";
  st.metadata["discriminators"] = "1";
  st.metadata["config"] = R"({"arch": "dcgan", "run_name": "seed"})";
  dg::write_safetensors(dir + "/safetensors/checkpoint", st);
  // config.json as dgtrain writes it for a run on Fashion-MNIST.
  dg::TrainOptions o;
  o.train.model.channels = 1;
  o.train.total_steps = 600;
  o.run_name = "dcgan32-k2-max";
  dg::resolve_flags(o);
  const std::string text = to_json(o).dump(2);
  put(dir + "/config_json/default", Bytes(text.begin(), text.end()));
  std::printf("wrote the seed corpora under %s\n", dir.c_str());
  return 0;
}
