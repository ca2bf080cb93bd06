// The FID Inception-v3 (models/inception.h): the layer table (names, channels, kernels,
// strides, paddings) is declared once in the constructor; forward() wires the blocks.
#include "models/inception.h"

#include <initializer_list>

#include "kernels/activation/activation.h"
#include "kernels/batchnorm/batchnorm.h"
#include "kernels/conv/conv.h"
#include "kernels/elementwise/elementwise.h"
#include "kernels/image_ops/image_ops.h"
#include "engine/param_io.h"

namespace dg {

void InceptionFid::declare(const std::string& name, int cin, int cout, int kh, int kw, int stride, int pad_h,
                           int pad_w) {
  store_.add(name + ".conv.weight", {cout, cin, kh, kw}, ParamKind::conv_weight);
  store_.add(name + ".bn.weight", {cout}, ParamKind::bn_weight);
  store_.add(name + ".bn.bias", {cout}, ParamKind::bn_bias);
  store_.add(name + ".bn.running_mean", {cout}, ParamKind::running_mean);
  store_.add(name + ".bn.running_var", {cout}, ParamKind::running_var);
  convs_.push_back({name, stride, pad_h, pad_w});
}

InceptionFid::InceptionFid(Context& ctx) {
  // The stem: 299 -> 149 -> 147 -> 147 -> (max pool) 73 -> 73 -> 71 -> (max pool) 35.
  declare("Conv2d_1a_3x3", 3, 32, 3, 3, 2);
  declare("Conv2d_2a_3x3", 32, 32, 3, 3);
  declare("Conv2d_2b_3x3", 32, 64, 3, 3, 1, 1, 1);
  declare("Conv2d_3b_1x1", 64, 80, 1, 1);
  declare("Conv2d_4a_3x3", 80, 192, 3, 3);
  // Mixed_5b..5d (35x35): 1x1, 5x5, double 3x3 and pool branches.
  const int a_in[] = {192, 256, 288}, a_pool[] = {32, 64, 64};
  for (int i = 0; i < 3; i++) {
    const std::string n = std::string("Mixed_5") + char('b' + i);
    declare(n + ".branch1x1", a_in[i], 64, 1, 1);
    declare(n + ".branch5x5_1", a_in[i], 48, 1, 1);
    declare(n + ".branch5x5_2", 48, 64, 5, 5, 1, 2, 2);
    declare(n + ".branch3x3dbl_1", a_in[i], 64, 1, 1);
    declare(n + ".branch3x3dbl_2", 64, 96, 3, 3, 1, 1, 1);
    declare(n + ".branch3x3dbl_3", 96, 96, 3, 3, 1, 1, 1);
    declare(n + ".branch_pool", a_in[i], a_pool[i], 1, 1);
  }
  // Mixed_6a: 35 -> 17.
  declare("Mixed_6a.branch3x3", 288, 384, 3, 3, 2);
  declare("Mixed_6a.branch3x3dbl_1", 288, 64, 1, 1);
  declare("Mixed_6a.branch3x3dbl_2", 64, 96, 3, 3, 1, 1, 1);
  declare("Mixed_6a.branch3x3dbl_3", 96, 96, 3, 3, 2);
  // Mixed_6b..6e (17x17): factorized 7x7 branches of width c7.
  const int c7s[] = {128, 160, 160, 192};
  for (int i = 0; i < 4; i++) {
    const std::string n = std::string("Mixed_6") + char('b' + i);
    const int c7 = c7s[i];
    declare(n + ".branch1x1", 768, 192, 1, 1);
    declare(n + ".branch7x7_1", 768, c7, 1, 1);
    declare(n + ".branch7x7_2", c7, c7, 1, 7, 1, 0, 3);
    declare(n + ".branch7x7_3", c7, 192, 7, 1, 1, 3, 0);
    declare(n + ".branch7x7dbl_1", 768, c7, 1, 1);
    declare(n + ".branch7x7dbl_2", c7, c7, 7, 1, 1, 3, 0);
    declare(n + ".branch7x7dbl_3", c7, c7, 1, 7, 1, 0, 3);
    declare(n + ".branch7x7dbl_4", c7, c7, 7, 1, 1, 3, 0);
    declare(n + ".branch7x7dbl_5", c7, 192, 1, 7, 1, 0, 3);
    declare(n + ".branch_pool", 768, 192, 1, 1);
  }
  // Mixed_7a: 17 -> 8.
  declare("Mixed_7a.branch3x3_1", 768, 192, 1, 1);
  declare("Mixed_7a.branch3x3_2", 192, 320, 3, 3, 2);
  declare("Mixed_7a.branch7x7x3_1", 768, 192, 1, 1);
  declare("Mixed_7a.branch7x7x3_2", 192, 192, 1, 7, 1, 0, 3);
  declare("Mixed_7a.branch7x7x3_3", 192, 192, 7, 1, 1, 3, 0);
  declare("Mixed_7a.branch7x7x3_4", 192, 192, 3, 3, 2);
  // Mixed_7b, 7c (8x8): 1x3 / 3x1 pairs.
  const int e_in[] = {1280, 2048};
  for (int i = 0; i < 2; i++) {
    const std::string n = std::string("Mixed_7") + char('b' + i);
    declare(n + ".branch1x1", e_in[i], 320, 1, 1);
    declare(n + ".branch3x3_1", e_in[i], 384, 1, 1);
    declare(n + ".branch3x3_2a", 384, 384, 1, 3, 1, 0, 1);
    declare(n + ".branch3x3_2b", 384, 384, 3, 1, 1, 1, 0);
    declare(n + ".branch3x3dbl_1", e_in[i], 448, 1, 1);
    declare(n + ".branch3x3dbl_2", 448, 384, 3, 3, 1, 1, 1);
    declare(n + ".branch3x3dbl_3a", 384, 384, 1, 3, 1, 0, 1);
    declare(n + ".branch3x3dbl_3b", 384, 384, 3, 1, 1, 1, 0);
    declare(n + ".branch_pool", e_in[i], 192, 1, 1);
  }
  store_.add("fc.weight", {kClasses, kFeatures}, ParamKind::linear_weight);
  store_.add("fc.bias", {kClasses}, ParamKind::linear_bias);  // in the file; the IS logits leave it out
  store_.allocate(ctx, /*training=*/false);
}

void InceptionFid::load(Context& ctx, const SafeTensors& weights, const std::string& source) {
  try {
    load_store(ctx, store_, StorePart::state, "", weights);
  } catch (const Error& e) {
    DG_FAIL(source, " is not a converted FID Inception weight file (tools/convert_fid_inception.py): ", e.what());
  }
}

Tensor InceptionFid::conv(Context& ctx, const std::string& name, const Tensor& x) {
  const Conv* c = nullptr;
  for (const Conv& k : convs_)
    if (k.name == name) c = &k;
  DG_CHECK(c != nullptr, "InceptionFid: no layer ", name);
  const Tensor w = store_.param(name + ".conv.weight");
  const ConvGeom g{c->stride, c->pad_h, c->pad_w};
  Tensor y = ctx.alloc({x.n(), w.n(), conv_out_size(x.h(), w.h(), g), conv_out_size_w(x.w(), w.w(), g)});
  conv2d_forward(ctx, x, w, g, y);
  BatchNormConfig bn;
  bn.eps = 1e-3f;
  bn.act.kind = Act::relu;
  batchnorm2d_forward_eval(ctx, bn, y, store_.param(name + ".bn.weight"), store_.param(name + ".bn.bias"),
                           store_.buffer(name + ".bn.running_mean"), store_.buffer(name + ".bn.running_var"), y);
  return y;
}

static Tensor pool(Context& ctx, bool is_max, const Tensor& x, PoolGeom g) {
  Tensor y = ctx.alloc({x.n(), x.c(), pool_out_size(x.h(), g), pool_out_size(x.w(), g)});
  if (is_max)
    max_pool2d(ctx, x, g, y);
  else
    avg_pool2d(ctx, x, g, y);
  return y;
}

static Tensor concat(Context& ctx, std::initializer_list<Tensor> parts) {
  const Tensor& first = *parts.begin();
  int channels = 0;
  for (const Tensor& p : parts) channels += p.c();
  Tensor y = ctx.alloc({first.n(), channels, first.h(), first.w()});
  int c0 = 0;
  for (const Tensor& p : parts) {
    copy_channels(ctx, p, y, c0);
    c0 += p.c();
  }
  return y;
}

Tensor InceptionFid::mixed_a(Context& ctx, const std::string& n, const Tensor& x) {
  Tensor b1 = conv(ctx, n + ".branch1x1", x);
  Tensor b5 = conv(ctx, n + ".branch5x5_2", conv(ctx, n + ".branch5x5_1", x));
  Tensor b3 = conv(ctx, n + ".branch3x3dbl_3", conv(ctx, n + ".branch3x3dbl_2", conv(ctx, n + ".branch3x3dbl_1", x)));
  Tensor bp = conv(ctx, n + ".branch_pool", pool(ctx, false, x, {3, 1, 1}));
  return concat(ctx, {b1, b5, b3, bp});
}

Tensor InceptionFid::mixed_b(Context& ctx, const std::string& n, const Tensor& x) {
  Tensor b3 = conv(ctx, n + ".branch3x3", x);
  Tensor bd = conv(ctx, n + ".branch3x3dbl_3", conv(ctx, n + ".branch3x3dbl_2", conv(ctx, n + ".branch3x3dbl_1", x)));
  return concat(ctx, {b3, bd, pool(ctx, true, x, {3, 2, 0})});
}

Tensor InceptionFid::mixed_c(Context& ctx, const std::string& n, const Tensor& x) {
  Tensor b1 = conv(ctx, n + ".branch1x1", x);
  Tensor b7 = x;
  for (const char* s : {"_1", "_2", "_3"}) b7 = conv(ctx, n + ".branch7x7" + s, b7);
  Tensor bd = x;
  for (const char* s : {"_1", "_2", "_3", "_4", "_5"}) bd = conv(ctx, n + ".branch7x7dbl" + s, bd);
  Tensor bp = conv(ctx, n + ".branch_pool", pool(ctx, false, x, {3, 1, 1}));
  return concat(ctx, {b1, b7, bd, bp});
}

Tensor InceptionFid::mixed_d(Context& ctx, const std::string& n, const Tensor& x) {
  Tensor b3 = conv(ctx, n + ".branch3x3_2", conv(ctx, n + ".branch3x3_1", x));
  Tensor b7 = x;
  for (const char* s : {"_1", "_2", "_3", "_4"}) b7 = conv(ctx, n + ".branch7x7x3" + s, b7);
  return concat(ctx, {b3, b7, pool(ctx, true, x, {3, 2, 0})});
}

Tensor InceptionFid::mixed_e(Context& ctx, const std::string& n, const Tensor& x, bool max_pool) {
  Tensor b1 = conv(ctx, n + ".branch1x1", x);
  Tensor b3 = conv(ctx, n + ".branch3x3_1", x);
  Tensor b3s = concat(ctx, {conv(ctx, n + ".branch3x3_2a", b3), conv(ctx, n + ".branch3x3_2b", b3)});
  Tensor bd = conv(ctx, n + ".branch3x3dbl_2", conv(ctx, n + ".branch3x3dbl_1", x));
  Tensor bds = concat(ctx, {conv(ctx, n + ".branch3x3dbl_3a", bd), conv(ctx, n + ".branch3x3dbl_3b", bd)});
  Tensor bp = conv(ctx, n + ".branch_pool", pool(ctx, max_pool, x, {3, 1, 1}));
  return concat(ctx, {b1, b3s, bds, bp});
}

void InceptionFid::forward(Context& ctx, const Tensor& images, Tensor pool3, Tensor logits) {
  DG_CHECK(images.shape.rank == 4 && (images.c() == 1 || images.c() == 3) && images.numel() > 0,
           "InceptionFid: images must be (N, 1 or 3, H, W), got ", images.shape.str());
  const int N = images.n();
  check_shape(pool3, {N, kFeatures}, "InceptionFid pool3");
  if (logits.data) check_shape(logits, {N, kClasses}, "InceptionFid logits");
  ScratchScope scratch(ctx);
  // pytorch-fid's input path: 8-bit levels, grayscale repeated to RGB, resize to 299. The
  // levels are kept in [-1, 1]: the resize is affine, so resize(2q - 1) = 2 resize(q) - 1.
  Tensor q = ctx.alloc(images.shape);
  quantize_8bit(ctx, images, q);
  Tensor rgb = q;
  if (images.c() == 1) {
    rgb = ctx.alloc({N, 3, images.h(), images.w()});
    for (int c = 0; c < 3; c++) copy_channels(ctx, q, rgb, c);
  }
  Tensor x = ctx.alloc({N, 3, kInputSize, kInputSize});
  resize_bilinear(ctx, rgb, x);

  x = conv(ctx, "Conv2d_2b_3x3", conv(ctx, "Conv2d_2a_3x3", conv(ctx, "Conv2d_1a_3x3", x)));
  x = pool(ctx, true, x, {3, 2, 0});
  x = conv(ctx, "Conv2d_4a_3x3", conv(ctx, "Conv2d_3b_1x1", x));
  x = pool(ctx, true, x, {3, 2, 0});
  for (const char* n : {"Mixed_5b", "Mixed_5c", "Mixed_5d"}) x = mixed_a(ctx, n, x);
  x = mixed_b(ctx, "Mixed_6a", x);
  for (const char* n : {"Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"}) x = mixed_c(ctx, n, x);
  x = mixed_d(ctx, "Mixed_7a", x);
  x = mixed_e(ctx, "Mixed_7b", x, /*max_pool=*/false);
  x = mixed_e(ctx, "Mixed_7c", x, /*max_pool=*/true);
  // Global average pool of the 8x8 map: pool3 (N, 2048, 1, 1), viewed as (N, 2048).
  DG_CHECK(x.h() == 8 && x.w() == 8, "InceptionFid: Mixed_7c gave ", x.shape.str(), ", expected 8x8");
  Tensor p = pool(ctx, false, x, {8, 1, 0});
  copy(ctx, p, pool3);
  if (logits.data) {
    // logits = pool3 * fc.weight^T, as a 1x1 convolution of the (N, 2048, 1, 1) map.
    const Tensor fc = store_.param("fc.weight").reshaped({kClasses, kFeatures, 1, 1});
    conv2d_forward(ctx, p, fc, {}, logits.reshaped({N, kClasses, 1, 1}));
  }
}

}  // namespace dg
