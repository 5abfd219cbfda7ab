// A C ABI over Debian's libwebrtc-audio-processing (WebRTC APM, the 0.3 series) so that
// imp/audio/processing can drive it through ctypes. The library only has a C++ API; this file
// adds no signal processing of its own: it creates one AudioProcessing instance, switches on the
// requested component and moves 10 ms int16 mono blocks in and out.
// Built by tools/setup/audio-deps.sh into a cache directory outside the checkout.
#include <cstdint>
#include <cstring>

#include <webrtc/common.h>
#include <webrtc/modules/audio_processing/include/audio_processing.h>

namespace {

// The float interface (Debian's headers for webrtc::AudioFrame are incomplete); 10 ms at up to
// 48 kHz is 480 samples.
constexpr int kMaxSamples = 480;

struct Apm {
  webrtc::AudioProcessing* apm;
  float block[kMaxSamples];
};

int to_float(Apm* a, int rate, const int16_t* data, int samples) {
  if (samples * 100 != rate || samples > kMaxSamples) return -1;
  for (int i = 0; i < samples; ++i) a->block[i] = data[i] / 32768.0f;
  return 0;
}

void to_int16(const float* block, int16_t* data, int samples) {
  for (int i = 0; i < samples; ++i) {
    float v = block[i] * 32768.0f;
    v = v > 32767.0f ? 32767.0f : (v < -32768.0f ? -32768.0f : v);
    data[i] = static_cast<int16_t>(v < 0 ? v - 0.5f : v + 0.5f);
  }
}

}  // namespace

extern "C" {

// Returns an instance or NULL. extended_aec selects the delay-agnostic, extended-filter AEC.
void* imp_apm_create(int extended_aec) {
  webrtc::Config config;
  config.Set<webrtc::ExperimentalAgc>(new webrtc::ExperimentalAgc(false));
  if (extended_aec) {
    config.Set<webrtc::DelayAgnostic>(new webrtc::DelayAgnostic(true));
    config.Set<webrtc::ExtendedFilter>(new webrtc::ExtendedFilter(true));
  }
  webrtc::AudioProcessing* apm = webrtc::AudioProcessing::Create(config);
  if (apm == nullptr) return nullptr;
  Apm* a = new Apm;
  a->apm = apm;
  return a;
}

void imp_apm_destroy(void* handle) {
  Apm* a = static_cast<Apm*>(handle);
  if (a == nullptr) return;
  delete a->apm;
  delete a;
}

// level: 0..3 = kLow, kModerate, kHigh, kVeryHigh.
int imp_apm_enable_ns(void* handle, int level) {
  webrtc::NoiseSuppression* ns = static_cast<Apm*>(handle)->apm->noise_suppression();
  if (ns->set_level(static_cast<webrtc::NoiseSuppression::Level>(level)) != 0) return -1;
  return ns->Enable(true);
}

// mode: 0 adaptive analog, 1 adaptive digital, 2 fixed digital.
int imp_apm_enable_agc(void* handle, int mode, int target_dbfs, int compression_db, int limiter) {
  webrtc::GainControl* agc = static_cast<Apm*>(handle)->apm->gain_control();
  if (agc->set_mode(static_cast<webrtc::GainControl::Mode>(mode)) != 0) return -1;
  if (agc->set_target_level_dbfs(target_dbfs) != 0) return -2;
  if (agc->set_compression_gain_db(compression_db) != 0) return -3;
  if (agc->enable_limiter(limiter != 0) != 0) return -4;
  return agc->Enable(true);
}

int imp_apm_enable_hpf(void* handle) {
  return static_cast<Apm*>(handle)->apm->high_pass_filter()->Enable(true);
}

// level: 0..2 = kLowSuppression, kModerateSuppression, kHighSuppression.
int imp_apm_enable_aec(void* handle, int level) {
  webrtc::EchoCancellation* aec = static_cast<Apm*>(handle)->apm->echo_cancellation();
  if (aec->set_suppression_level(static_cast<webrtc::EchoCancellation::SuppressionLevel>(level)) != 0)
    return -1;
  if (aec->enable_drift_compensation(false) != 0) return -2;
  return aec->Enable(true);
}

// One 10 ms block of what the loudspeaker played.
int imp_apm_process_reverse(void* handle, int rate, const int16_t* data, int samples) {
  Apm* a = static_cast<Apm*>(handle);
  if (to_float(a, rate, data, samples) != 0) return -100;
  const float* src[1] = {a->block};
  return a->apm->AnalyzeReverseStream(src, static_cast<size_t>(samples), rate,
                                      webrtc::AudioProcessing::kMono);
}

// One 10 ms block of the microphone, processed in place.
int imp_apm_process(void* handle, int rate, int16_t* data, int samples, int delay_ms) {
  Apm* a = static_cast<Apm*>(handle);
  if (to_float(a, rate, data, samples) != 0) return -100;
  if (a->apm->echo_cancellation()->is_enabled()) a->apm->set_stream_delay_ms(delay_ms);
  const float* src[1] = {a->block};
  float* dst[1] = {a->block};
  int err = a->apm->ProcessStream(src, static_cast<size_t>(samples), rate,
                                  webrtc::AudioProcessing::kMono, rate,
                                  webrtc::AudioProcessing::kMono, dst);
  to_int16(a->block, data, samples);
  return err;
}

}  // extern "C"
