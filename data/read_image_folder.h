// A folder of ordinary image files (PNG, JPEG, BMP), decoded with stb_image. Images of any
// size become one common size at read time: each is center-cropped to a square (the
// shorter side) and resized bilinearly to size x size, in 3 channels (grayscale is
// repeated into R, G and B; alpha is dropped).
#pragma once
#include <string>

#include "data/image_set.h"

namespace dg::data {

// Every *.png, *.jpg, *.jpeg, *.bmp (any letter case) under dir, recursively, in sorted
// path order so the set is the same on every machine. No labels. Decoding runs on all
// cores; the first failing file in that order is the one reported.
ImageSet read_image_folder(const std::string& dir, int size);

// True for a name with one of the extensions above.
bool is_image_file_name(const std::string& file_name);

}  // namespace dg::data
