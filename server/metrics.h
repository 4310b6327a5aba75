#pragma once
// Server counters, gauges and latency histograms in Prometheus text format (GET /metrics).
// Written by the engine thread and the network thread, read by the network thread: one mutex,
// held only for a few additions, is the whole synchronisation.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/batch_model.h"

namespace vkllm::server {

class Histogram {
  public:
    explicit Histogram(std::vector<double> upper_bounds);
    void observe(double value);
    // Appends the _bucket, _sum and _count lines of metric `name`.
    void write(std::string& out, const std::string& name, const std::string& help) const;

  private:
    std::vector<double> bounds_;
    std::vector<uint64_t> counts_;  // per bucket, not cumulative; +Inf is the last
    double sum_ = 0.0;
    uint64_t count_ = 0;
};

// Engine state sampled after each scheduler iteration.
struct EngineGauges {
    uint64_t queue_depth = 0;
    uint64_t slots_busy = 0;
    uint64_t slots_total = 0;
    uint64_t kv_used_tokens = 0;
    uint64_t kv_capacity_tokens = 0;
    std::optional<ExpertCacheCounters> experts;  // streamed MoE experts only
};

class Metrics {
  public:
    Metrics();

    void record_request(const std::string& route, int status);
    void record_prompt(uint64_t prompt_tokens, uint64_t reused_tokens);
    // One engine step that prefilled and decoded these many tokens. A mixed step's time is split
    // between prefill and decode in proportion to their tokens (an estimate: the two share one
    // forward pass).
    void record_step(uint64_t prefill_tokens, uint64_t decode_tokens, double seconds);
    void record_ttft(double seconds);
    void record_inter_token(double seconds);
    void record_cancelled();
    void record_engine_error();
    void set_gauges(const EngineGauges& gauges);
    void connection_opened();
    void connection_closed();

    EngineGauges gauges() const;
    uint64_t open_connections() const;
    std::string prometheus_text() const;

  private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, uint64_t> requests_;  // (route, status) -> count
    uint64_t prompt_tokens_ = 0;
    uint64_t reused_tokens_ = 0;
    uint64_t prefill_tokens_ = 0;
    double prefill_seconds_ = 0.0;
    uint64_t decode_tokens_ = 0;
    double decode_seconds_ = 0.0;
    uint64_t steps_ = 0;
    double step_seconds_ = 0.0;
    uint64_t cancelled_ = 0;
    uint64_t engine_errors_ = 0;
    uint64_t connections_ = 0;
    EngineGauges gauges_;
    Histogram ttft_;
    Histogram inter_token_;
};

}  // namespace vkllm::server
