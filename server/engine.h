#pragma once
// The continuous-batching engine: one thread owns the model and loops
//   take new requests -> admit them to free slots (reusing each slot's cached prefix) ->
//   ONE model step: a decode token for every generating slot, plus prefill chunks of admitting
//   slots (longest-waiting first) in the rest of the step's token budget -> sample, detokenize,
//   match stop strings, emit events.
// A long prompt therefore never stalls running generations: they get a token in every step
// while the prompt is prefilled chunk by chunk beside them. Requests beyond the slots wait in a
// bounded queue (submit() refuses when it is full).
//
// Threads: submit() and cancel() are called from the network thread; everything else runs on the
// engine thread, including the event callbacks, which must only hand the event over (asio::post)
// and return. An exception from the model fails the requests of that step and the engine goes
// on; it never leaves the engine thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "loader/tokenizer.h"
#include "runtime/generate/generation.h"
#include "runtime/generate/sampler.h"
#include "server/batch_model.h"
#include "server/metrics.h"

namespace vkllm::server {

struct GenerationJob {
    std::vector<int32_t> prompt;  // non-empty, shorter than the context
    uint32_t max_tokens = 0;      // >= 1; generation also stops at the end of the context
    SamplingParams sampling;
    std::vector<std::string> stop;
    bool logprobs = false;
    uint32_t top_logprobs = 0;
};

struct TokenAlternative {
    int32_t token = 0;
    std::string piece;  // the token's bytes (may be part of a UTF-8 character)
    float logprob = 0.0f;
};

struct TokenLogprob {
    int32_t token = 0;
    std::string piece;
    float logprob = 0.0f;
    std::vector<TokenAlternative> top;  // most likely first
};

using vkllm::Finish;  // runtime/generate/generation.h

struct GenerationEvent {
    std::string text;                    // newly released text, valid UTF-8 (may be empty)
    std::vector<TokenLogprob> logprobs;  // for the tokens behind `text`, when requested
    Finish finish = Finish::None;        // != None: the last event of the request
    std::string error;                   // Finish::Error: what failed
    uint32_t prompt_tokens = 0;          // set on the last event
    uint32_t completion_tokens = 0;
    uint32_t cached_tokens = 0;  // prompt tokens reused from the slot's cache
};

using EventCallback = std::function<void(GenerationEvent&&)>;

struct EngineOptions {
    uint32_t max_queue = 64;  // waiting requests beyond the slots (then submit refuses)
    // Tokens per scheduler step (decode tokens first, prompt chunks in the rest), capped by the
    // model's max_step_tokens; the decode tokens of all slots always fit.
    uint32_t prefill_chunk = 512;
};

class Engine {
  public:
    // Borrows all three; they must outlive the engine. Starts the engine thread.
    Engine(BatchModel& model, const Tokenizer& tokenizer, Metrics& metrics,
           const EngineOptions& options);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Queues a job. Returns its id, or nullopt when the queue is full or the engine is stopping.
    // Throws std::invalid_argument (naming the field) for sampling parameters the sampler refuses.
    std::optional<uint64_t> submit(GenerationJob job, EventCallback on_event);
    // Stops a queued or running request at the next step; it ends with Finish::Cancelled.
    void cancel(uint64_t id);
    // Cancels everything and joins the thread (also done by the destructor).
    void stop();

    uint32_t n_ctx() const { return model_.n_ctx(); }
    uint32_t n_slots() const { return model_.n_seq(); }

  private:
    using Clock = std::chrono::steady_clock;
    struct Request;
    struct Slot;

    void run();
    bool take_work(std::vector<uint64_t>& cancels);
    void apply_cancels(const std::vector<uint64_t>& cancels);
    void admit();
    // Builds and runs one model step (nothing when no slot has work).
    void run_step();
    // Samples the slot's next token, emits its text, and finishes the request when it ends.
    void handle_logits(Slot& slot, std::span<float> logits);
    void finish(Slot& slot, Finish reason, std::string error = {});
    void fail_slot(Slot& slot, const std::string& error);
    void publish_gauges();
    void release_outstanding();

    BatchModel& model_;
    const Tokenizer& tokenizer_;
    Metrics& metrics_;
    EngineOptions options_;

    // Shared with the network thread, under mutex_.
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::unique_ptr<Request>> queue_;
    std::vector<uint64_t> cancels_;
    size_t outstanding_ = 0;  // submitted and not yet finished: queued plus running
    uint64_t next_id_ = 1;
    bool stopping_ = false;

    // Engine thread only.
    std::vector<Slot> slots_;
    uint64_t step_ = 0;
    std::thread thread_;  // last: started after everything it uses exists
};

}  // namespace vkllm::server
