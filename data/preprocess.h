// From stored uint8 pixels to what the models eat: (channels_out, S, S) floats in [-1, 1].
//   resize:   bilinear to S x S when the stored size differs (resize.h; align_corners=false)
//   channels: 1 -> 1, 3 -> 3, 1 -> 3 repeats the gray plane (as the seed project fed
//             Fashion-MNIST to a 3-channel model); 3 -> 1 is refused rather than guessed
//   scale:    x / 127.5 - 1, so 0 -> -1 and 255 -> 1 (the range of the generator's tanh)
#pragma once
#include "data/image_set.h"

namespace dg::data {

// DataError unless images of `set` can be given channels_out channels (see above).
void check_channels(const ImageSet& set, int channels_out);

// Writes image `index` of `set` to out: (channels_out, size, size) floats in [-1, 1].
// DataError for an index outside the set or outside its pixel data.
void preprocess_image(const ImageSet& set, int index, int size, int channels_out, float* out);

}  // namespace dg::data
