// TensorBoard event files (`tensorboard --logdir runs`): the Event protocol buffers of
// TensorBoard's tensorboard/compat/proto/{event,summary,tensor}.proto that dg writes, in
// TFRecord framing (tools/run/tfrecord.h). Only the fields below are written, encoded by hand
// (tb_events.cpp says why not with libprotobuf):
//   Event        wall_time 1 (double), step 2 (int64), file_version 3, summary 5, session_log 7
//   SessionLog   status 1 (START = 1)
//   Summary      value 1 (repeated)
//   Value        tag 1, simple_value 2 (float), image 4, tensor 8, metadata 9
//   Image        height 1, width 2, colorspace 3 (1 gray, 3 RGB), encoded_image_string 4 (PNG)
//   SummaryMetadata  plugin_data 1 { plugin_name 1 }
//   TensorProto  dtype 1 (DT_STRING = 7), tensor_shape 2 (empty: a scalar), string_val 8
#pragma once
#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace dg {

class EventFile {
 public:
  // A new events file in `folder` for this launch of a run, named to sort after the folder's
  // older ones (TensorBoard reads a run's files in name order), opened with the file version
  // and a SessionLog START at `start_step`: a TensorBoard already watching the run then drops
  // what it had shown from that step on (the steps a resume repeats).
  EventFile(const std::string& folder, int64_t start_step);

  const std::string& path() const { return path_; }
  // One event with these scalars at `step` (each written as a float32).
  void scalars(int64_t step, const std::vector<std::pair<std::string, double>>& values);
  // A PNG image, `channels` 1 (gray) or 3 (RGB).
  void image(int64_t step, const std::string& tag, const std::string& png, int width, int height, int channels);
  // Markdown for TensorBoard's text tab.
  void text(int64_t step, const std::string& tag, const std::string& markdown);

 private:
  void write_event(int64_t step, const std::string& what);  // `what`: the Event's oneof field, encoded
  std::string path_;
  std::ofstream f_;
};

// The step of an encoded Event (0 when it has none); -1 when it is not a valid message.
int64_t event_step(const std::string& event);

// Before a resume from `step`: rewrites each events file of `folder` that holds events after
// `step` or ends in a torn record (a killed run) without them, atomically. Returns what it
// did, for the user ("" if nothing).
std::string tidy_events_for_resume(const std::string& folder, int64_t step);

}  // namespace dg
