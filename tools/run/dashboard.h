// dashboard.png at the end of a run: tools/dgplot.py (python3 + matplotlib), which CMake
// copies next to the dgtrain binary, run on the run folder.
#pragma once
#include <string>

namespace dg {

// Draws <run_folder>/dashboard.png; returns "" when it did, else why not (no python3, no
// matplotlib, no dgplot.py beside the binary), for the user. Training is done either way.
std::string draw_dashboard(const std::string& run_folder);

}  // namespace dg
