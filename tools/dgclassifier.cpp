// dgclassifier: trains the feature classifier (models/classifier.h) on a labelled data set
// and saves it for dgeval's domain-specific features:
//   dgclassifier --train fashion-mnist --test /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz \
//                --out fmnist-classifier.safetensors
// One line per epoch; the file's metadata records the data set and the test accuracy.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "data/data_error.h"
#include "data/load_dataset.h"
#include "models/classifier.h"

int main(int argc, char** argv) {
  CLI::App app{"dgclassifier: train dg's feature classifier on a labelled data set", "dgclassifier"};
  std::string train_path, test_path, out_path, device = "auto";
  dg::ClassifierConfig cfg;
  dg::ClassifierTrainConfig tc;
  uint64_t init_seed = 1;
  app.add_option("--train", train_path, "labelled training set: a data set name, folder or file (as dgtrain --data)")
      ->required();
  app.add_option("--test", test_path, "labelled test set (the accuracy is measured on it)")->required();
  app.add_option("--out", out_path, "where to write the classifier (.safetensors)")->required();
  app.add_option("--device", device, "auto: the GPU when there is one")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  app.add_option("--channels", cfg.channels, "input channels")->check(CLI::IsMember({1, 3}));
  app.add_option("--image-size", cfg.image_size, "input side")->check(CLI::IsMember({32, 64, 128}));
  app.add_option("--classes", cfg.classes, "number of classes")->check(CLI::Range(2, 100000));
  app.add_option("--width", cfg.width, "channels of the first conv (features = 4 width)")->check(CLI::Range(1, 4096));
  app.add_option("--epochs", tc.epochs, "epochs")->check(CLI::Range(1, 100000));
  app.add_option("--batch", tc.batch_size, "batch size")->check(CLI::Range(2, 65536));
  app.add_option("--lr", tc.lr, "Adam learning rate (decays linearly to 0)");
  app.add_option("--seed", tc.seed, "shuffling seed");
  app.add_option("--init-seed", init_seed, "weight initialization seed");
  CLI11_PARSE(app, argc, argv);
  try {
    dg::ContextOptions opt;
    opt.device = device == "cuda" || (device == "auto" && dg::cuda_available()) ? dg::Device::cuda : dg::Device::cpu;
    dg::Context ctx(opt);
    const dg::data::ImageSet train = dg::data::load_dataset(train_path, dg::data::Format::automatic, cfg.image_size);
    const dg::data::ImageSet test = dg::data::load_dataset(test_path, dg::data::Format::automatic, cfg.image_size);
    std::printf("train: %s (%d images), test: %s (%d images), device %s\n", train.source.c_str(), train.count,
                test.source.c_str(), test.count, dg::device_name(opt.device));
    std::fflush(stdout);
    dg::Classifier net(ctx, cfg, true);
    net.init_weights(ctx, init_seed);
    const dg::ClassifierReport r = dg::train_classifier(ctx, net, train, test, tc, [](const std::string& line) {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    });
    char acc[32];
    std::snprintf(acc, sizeof acc, "%.4f", r.test_accuracy);
    net.save(ctx, out_path,
             {{"dataset", train.source}, {"test_set", test.source}, {"test_accuracy", acc},
              {"epochs", std::to_string(r.epochs)}, {"train_seconds", std::to_string(r.seconds)}});
    std::printf("test accuracy %s after %d epochs, %.1f s; wrote %s\n", acc, r.epochs, r.seconds, out_path.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dgclassifier: %s\n", e.what());
    return 1;
  }
  return 0;
}
