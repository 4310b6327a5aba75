#include "server/metrics.h"

#include <cstdio>

namespace vkllm::server {
namespace {

std::string num(double x) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.9g", x);
    return buf;
}

void metric(std::string& out, const std::string& name, const char* type, const std::string& help,
            const std::string& value) {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    out += name + " " + value + "\n";
}

double rate(uint64_t tokens, double seconds) {
    return seconds > 0.0 ? static_cast<double>(tokens) / seconds : 0.0;
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
    size_t i = 0;
    while (i < bounds_.size() && value > bounds_[i]) ++i;
    ++counts_[i];
    sum_ += value;
    ++count_;
}

void Histogram::write(std::string& out, const std::string& name, const std::string& help) const {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
        cumulative += counts_[i];
        out +=
            name + "_bucket{le=\"" + num(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
    }
    out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
    out += name + "_sum " + num(sum_) + "\n";
    out += name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : ttft_({0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
      inter_token_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}) {}

void Metrics::record_request(const std::string& route, int status) {
    std::lock_guard lock(mutex_);
    ++requests_[{route, status}];
}

void Metrics::record_prompt(uint64_t prompt_tokens, uint64_t reused_tokens) {
    std::lock_guard lock(mutex_);
    prompt_tokens_ += prompt_tokens;
    reused_tokens_ += reused_tokens;
}

void Metrics::record_step(uint64_t prefill_tokens, uint64_t decode_tokens, double seconds) {
    std::lock_guard lock(mutex_);
    const uint64_t total = prefill_tokens + decode_tokens;
    if (total == 0) return;
    const double prefill_share =
        seconds * static_cast<double>(prefill_tokens) / static_cast<double>(total);
    prefill_tokens_ += prefill_tokens;
    prefill_seconds_ += prefill_share;
    decode_tokens_ += decode_tokens;
    decode_seconds_ += seconds - prefill_share;
    ++steps_;
    step_seconds_ += seconds;
}

void Metrics::record_ttft(double seconds) {
    std::lock_guard lock(mutex_);
    ttft_.observe(seconds);
}

void Metrics::record_inter_token(double seconds) {
    std::lock_guard lock(mutex_);
    inter_token_.observe(seconds);
}

void Metrics::record_cancelled() {
    std::lock_guard lock(mutex_);
    ++cancelled_;
}

void Metrics::record_engine_error() {
    std::lock_guard lock(mutex_);
    ++engine_errors_;
}

void Metrics::set_gauges(const EngineGauges& gauges) {
    std::lock_guard lock(mutex_);
    gauges_ = gauges;
}

void Metrics::connection_opened() {
    std::lock_guard lock(mutex_);
    ++connections_;
}

void Metrics::connection_closed() {
    std::lock_guard lock(mutex_);
    --connections_;
}

EngineGauges Metrics::gauges() const {
    std::lock_guard lock(mutex_);
    return gauges_;
}

uint64_t Metrics::open_connections() const {
    std::lock_guard lock(mutex_);
    return connections_;
}

std::string Metrics::prometheus_text() const {
    std::lock_guard lock(mutex_);
    std::string out;
    out += "# HELP vkllm_requests_total HTTP requests by route and status.\n";
    out += "# TYPE vkllm_requests_total counter\n";
    for (const auto& [key, count] : requests_) {
        out += "vkllm_requests_total{route=\"" + key.first + "\",status=\"" +
               std::to_string(key.second) + "\"} " + std::to_string(count) + "\n";
    }
    metric(out, "vkllm_prompt_tokens_total", "counter", "Prompt tokens of admitted requests.",
           std::to_string(prompt_tokens_));
    metric(out, "vkllm_prompt_tokens_reused_total", "counter",
           "Prompt tokens served from a slot's cached prefix instead of prefilled.",
           std::to_string(reused_tokens_));
    metric(out, "vkllm_prefill_tokens_total", "counter", "Tokens prefilled.",
           std::to_string(prefill_tokens_));
    metric(out, "vkllm_generated_tokens_total", "counter", "Tokens generated (decode steps).",
           std::to_string(decode_tokens_));
    metric(out, "vkllm_steps_total", "counter",
           "Model steps run (each mixes decode tokens and prompt chunks).", std::to_string(steps_));
    metric(out, "vkllm_step_seconds_total", "counter", "Time spent in model steps.",
           num(step_seconds_));
    metric(out, "vkllm_prefill_seconds_total", "counter",
           "Time spent in prefill (a mixed step's time split by tokens).", num(prefill_seconds_));
    metric(out, "vkllm_decode_seconds_total", "counter",
           "Time spent in decode (a mixed step's time split by tokens).", num(decode_seconds_));
    metric(out, "vkllm_prefill_tokens_per_second", "gauge", "Prefill throughput since start.",
           num(rate(prefill_tokens_, prefill_seconds_)));
    metric(out, "vkllm_decode_tokens_per_second", "gauge",
           "Aggregate decode throughput (all slots) since start.",
           num(rate(decode_tokens_, decode_seconds_)));
    metric(out, "vkllm_requests_cancelled_total", "counter",
           "Generations stopped because the client went away.", std::to_string(cancelled_));
    metric(out, "vkllm_engine_errors_total", "counter", "Model steps that failed.",
           std::to_string(engine_errors_));
    metric(out, "vkllm_queue_depth", "gauge", "Requests waiting for a slot.",
           std::to_string(gauges_.queue_depth));
    metric(out, "vkllm_slots_busy", "gauge", "Slots running a request.",
           std::to_string(gauges_.slots_busy));
    metric(out, "vkllm_slots_total", "gauge", "Slots (--parallel).",
           std::to_string(gauges_.slots_total));
    metric(out, "vkllm_kv_used_tokens", "gauge", "Tokens held in the KV caches of all slots.",
           std::to_string(gauges_.kv_used_tokens));
    metric(out, "vkllm_kv_capacity_tokens", "gauge", "KV cache capacity of all slots.",
           std::to_string(gauges_.kv_capacity_tokens));
    const double usage = gauges_.kv_capacity_tokens == 0
                             ? 0.0
                             : static_cast<double>(gauges_.kv_used_tokens) /
                                   static_cast<double>(gauges_.kv_capacity_tokens);
    metric(out, "vkllm_kv_usage_ratio", "gauge", "Fraction of the KV cache in use.", num(usage));
    if (const std::optional<ExpertCacheCounters>& e = gauges_.experts) {
        metric(out, "vkllm_expert_cache_slots_per_layer", "gauge",
               "Experts each MoE layer keeps on the device (the rest are streamed).",
               std::to_string(e->slots_per_layer));
        metric(out, "vkllm_expert_lookups_total", "counter",
               "Distinct experts routed, per MoE layer and step.", std::to_string(e->lookups));
        metric(out, "vkllm_expert_cache_hits_total", "counter",
               "Routed experts found in the expert cache.", std::to_string(e->hits));
        metric(out, "vkllm_expert_uploads_total", "counter", "Experts uploaded into the cache.",
               std::to_string(e->uploads));
        metric(out, "vkllm_expert_upload_bytes_total", "counter",
               "Bytes of experts uploaded into the cache.", std::to_string(e->upload_bytes));
        metric(out, "vkllm_expert_waves_total", "counter",
               "Expert passes run (more than one per layer and step when a batch routes more "
               "experts than a layer caches).",
               std::to_string(e->waves));
        metric(out, "vkllm_expert_prefetched_total", "counter",
               "Experts uploaded ahead from the next layer's forecast routing.",
               std::to_string(e->prefetched));
        metric(out, "vkllm_expert_prefetch_used_total", "counter",
               "Prefetched experts that their layer then routed.",
               std::to_string(e->prefetch_used));
        metric(out, "vkllm_expert_cpu_pairs_total", "counter",
               "(token, expert) pairs of cache misses computed on the CPU instead of uploaded.",
               std::to_string(e->cpu_pairs));
        const double hit =
            e->lookups ? static_cast<double>(e->hits) / static_cast<double>(e->lookups) : 0.0;
        metric(out, "vkllm_expert_cache_hit_ratio", "gauge", "Expert cache hits since start.",
               num(hit));
    }
    metric(out, "vkllm_open_connections", "gauge", "Open client connections.",
           std::to_string(connections_));
    ttft_.write(out, "vkllm_time_to_first_token_seconds",
                "Time from submission (queue wait included) to the first generated token.");
    inter_token_.write(out, "vkllm_inter_token_seconds",
                       "Time between consecutive tokens of one request.");
    return out;
}

}  // namespace vkllm::server
