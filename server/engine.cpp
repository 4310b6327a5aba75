#include "server/engine.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>

#include "loader/detokenizer.h"
#include "runtime/generate/generation.h"
#include "runtime/generate/stop_matcher.h"

namespace vkllm::server {

struct Engine::Request {
    uint64_t id = 0;
    GenerationJob job;
    EventCallback on_event;
    Sampler sampler;
    Clock::time_point submitted;
};

// A slot is one model sequence. `cached` always equals what the sequence's KV cache holds, so a
// later request can keep the common prefix; the per-request fields are reset on admission.
struct Engine::Slot {
    uint32_t seq = 0;
    std::vector<int32_t> cached;
    uint64_t last_used = 0;

    std::unique_ptr<Request> request;
    size_t prefill_pos = 0;   // next prompt index to prefill
    int32_t next_token = -1;  // sampled, not yet fed to the model; -1 while prefilling
    uint32_t generated = 0;
    uint32_t reused = 0;
    std::optional<Detokenizer> detokenizer;
    std::optional<StopMatcher> stop;
    Clock::time_point last_token_at;
};

namespace {

double seconds(std::chrono::steady_clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

// Log-softmax of the chosen token and of the top-k alternatives, from the raw model logits.
TokenLogprob make_logprob(const Tokenizer& tokenizer, std::span<const float> logits, int32_t token,
                          uint32_t k) {
    TokenLogprob lp;
    lp.token = token;
    tokenizer.append_piece(token, false, lp.piece);
    float max = -INFINITY;
    for (float x : logits) max = std::max(max, x);
    double sum = 0.0;
    for (float x : logits) sum += std::exp(static_cast<double>(x - max));
    const double log_z = static_cast<double>(max) + std::log(sum);
    lp.logprob =
        static_cast<float>(static_cast<double>(logits[static_cast<size_t>(token)]) - log_z);
    if (k == 0) return lp;
    for (const auto& [id, value] : top_logprobs(logits, k)) {
        TokenAlternative alt;
        alt.token = id;
        alt.logprob = value;
        tokenizer.append_piece(id, false, alt.piece);
        lp.top.push_back(std::move(alt));
    }
    return lp;
}

}  // namespace

Engine::Engine(BatchModel& model, const Tokenizer& tokenizer, Metrics& metrics,
               const EngineOptions& options)
    : model_(model), tokenizer_(tokenizer), metrics_(metrics), options_(options) {
    if (options_.prefill_chunk == 0) throw std::invalid_argument("prefill_chunk must be >= 1");
    slots_.resize(model_.n_seq());
    for (uint32_t i = 0; i < slots_.size(); ++i) slots_[i].seq = i;
    publish_gauges();
    thread_ = std::thread([this] { run(); });
}

Engine::~Engine() {
    stop();
}

void Engine::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::optional<uint64_t> Engine::submit(GenerationJob job, EventCallback on_event) {
    if (job.prompt.empty()) throw std::invalid_argument("prompt: empty");
    if (job.max_tokens == 0) throw std::invalid_argument("max_tokens: must be >= 1");
    auto request = std::make_unique<Request>(
        Request{0, {}, std::move(on_event), Sampler(job.sampling, model_.n_vocab()), Clock::now()});
    StopMatcher check(job.stop);  // throws for an empty stop string, before the job is queued
    request->job = std::move(job);
    {
        std::lock_guard lock(mutex_);
        // The bound is on waiting beyond the slots, counted from submission: a burst that
        // arrives before the engine has admitted anything must not be refused for free slots.
        if (stopping_ || outstanding_ >= slots_.size() + options_.max_queue) return std::nullopt;
        ++outstanding_;
        request->id = next_id_++;
        queue_.push_back(std::move(request));
        const uint64_t id = queue_.back()->id;
        wake_.notify_one();
        return id;
    }
}

void Engine::cancel(uint64_t id) {
    {
        std::lock_guard lock(mutex_);
        cancels_.push_back(id);
    }
    wake_.notify_one();
}

bool Engine::take_work(std::vector<uint64_t>& cancels) {
    std::unique_lock lock(mutex_);
    const auto busy = [this] {
        return std::any_of(slots_.begin(), slots_.end(),
                           [](const Slot& s) { return s.request != nullptr; });
    };
    wake_.wait(lock, [&] { return stopping_ || !cancels_.empty() || !queue_.empty() || busy(); });
    cancels.swap(cancels_);
    return !stopping_;
}

void Engine::run() {
    std::vector<uint64_t> cancels;
    while (take_work(cancels)) {
        apply_cancels(cancels);
        cancels.clear();
        admit();
        run_step();
        publish_gauges();
    }
    // Shutting down: every open request ends, so no connection waits forever.
    std::deque<std::unique_ptr<Request>> queued;
    {
        std::lock_guard lock(mutex_);
        queued.swap(queue_);
    }
    for (auto& r : queued) {
        GenerationEvent ev;
        ev.finish = Finish::Cancelled;
        ev.error = "server is shutting down";
        r->on_event(std::move(ev));
    }
    for (Slot& s : slots_) {
        if (s.request) finish(s, Finish::Cancelled, "server is shutting down");
    }
}

void Engine::apply_cancels(const std::vector<uint64_t>& cancels) {
    for (uint64_t id : cancels) {
        std::unique_ptr<Request> queued;
        {
            std::lock_guard lock(mutex_);
            auto it = std::find_if(queue_.begin(), queue_.end(),
                                   [id](const auto& r) { return r->id == id; });
            if (it != queue_.end()) {
                queued = std::move(*it);
                queue_.erase(it);
            }
        }
        if (queued) {
            release_outstanding();
            metrics_.record_cancelled();
            GenerationEvent ev;
            ev.finish = Finish::Cancelled;
            queued->on_event(std::move(ev));
            continue;
        }
        for (Slot& s : slots_) {
            if (s.request && s.request->id == id) {
                metrics_.record_cancelled();
                finish(s, Finish::Cancelled);
            }
        }
    }
}

// Free slot with the longest cached prefix of the prompt (least recently used on ties), so
// repeated system prompts and multi-turn chats skip most of their prefill.
void Engine::admit() {
    for (;;) {
        std::unique_ptr<Request> request;
        {
            std::lock_guard lock(mutex_);
            if (queue_.empty()) return;
            const bool any_free = std::any_of(slots_.begin(), slots_.end(),
                                              [](const Slot& s) { return s.request == nullptr; });
            if (!any_free) return;
            request = std::move(queue_.front());
            queue_.pop_front();
        }
        Slot* best = nullptr;
        size_t best_keep = 0;
        for (Slot& s : slots_) {
            if (s.request) continue;
            const size_t keep = reusable_prefix(s.cached, request->job.prompt);
            if (best == nullptr || keep > best_keep ||
                (keep == best_keep && s.last_used < best->last_used)) {
                best = &s;
                best_keep = keep;
            }
        }
        Slot& slot = *best;
        try {
            uint32_t kept = static_cast<uint32_t>(slot.cached.size());
            if (best_keep < slot.cached.size()) {
                kept = model_.truncate(slot.seq, static_cast<uint32_t>(best_keep));
            }
            slot.cached.resize(std::min<size_t>(kept, best_keep));
        } catch (const std::exception& e) {
            slot.request = std::move(request);
            fail_slot(slot, std::string("KV cache truncate failed: ") + e.what());
            continue;
        }
        slot.request = std::move(request);
        slot.last_used = ++step_;
        slot.prefill_pos = slot.cached.size();
        slot.next_token = -1;
        slot.generated = 0;
        slot.reused = static_cast<uint32_t>(slot.cached.size());
        slot.detokenizer.emplace(tokenizer_);
        slot.stop.emplace(slot.request->job.stop);
        metrics_.record_prompt(slot.request->job.prompt.size(), slot.reused);
    }
}

// One step: every generating slot's next token, then prompt chunks of admitting slots, the one
// that has waited longest first, while the step's token budget lasts.
void Engine::run_step() {
    std::vector<StepEntry> entries;
    std::vector<Slot*> members;  // members[i] owns entries[i]
    size_t decode_tokens = 0;
    for (Slot& s : slots_) {
        if (s.request && s.next_token >= 0) {
            entries.push_back(
                {s.seq, std::span<const int32_t>(&s.next_token, 1), LogitsWanted::Last});
            members.push_back(&s);
            ++decode_tokens;
        }
    }
    const size_t budget = std::min<size_t>(model_.max_step_tokens(),
                                           std::max<size_t>(options_.prefill_chunk, decode_tokens));
    size_t left = budget > decode_tokens ? budget - decode_tokens : 0;
    std::vector<Slot*> waiting;
    for (Slot& s : slots_) {
        if (s.request && s.next_token < 0) waiting.push_back(&s);
    }
    std::sort(waiting.begin(), waiting.end(),
              [](const Slot* a, const Slot* b) { return a->last_used < b->last_used; });
    size_t prefill_tokens = 0;
    for (Slot* s : waiting) {
        if (left == 0) break;
        const auto& prompt = s->request->job.prompt;
        const size_t n =
            std::min({left, size_t{model_.max_entry_tokens()}, prompt.size() - s->prefill_pos});
        const bool last = s->prefill_pos + n == prompt.size();
        entries.push_back({s->seq, std::span<const int32_t>(prompt.data() + s->prefill_pos, n),
                           last ? LogitsWanted::Last : LogitsWanted::None});
        members.push_back(s);
        left -= n;
        prefill_tokens += n;
    }
    if (entries.empty()) return;

    const auto t0 = Clock::now();
    std::vector<float> logits;
    try {
        logits = model_.step(entries);
    } catch (const std::exception& e) {
        for (size_t i = 0; i < members.size(); ++i) {
            const char* what = i < decode_tokens ? "decode" : "prefill";
            fail_slot(*members[i], std::string(what) + " failed: " + e.what());
        }
        return;
    }
    metrics_.record_step(prefill_tokens, decode_tokens, seconds(Clock::now() - t0));
    const size_t n_vocab = model_.n_vocab();
    size_t col = 0;
    for (size_t i = 0; i < members.size(); ++i) {
        Slot& s = *members[i];
        const StepEntry& e = entries[i];
        s.cached.insert(s.cached.end(), e.tokens.begin(), e.tokens.end());
        if (i >= decode_tokens) s.prefill_pos += e.tokens.size();  // a prompt chunk
        if (e.logits != LogitsWanted::None) {
            handle_logits(s, std::span<float>(logits.data() + col * n_vocab, n_vocab));
            ++col;
        }
    }
}

void Engine::handle_logits(Slot& slot, std::span<float> logits) {
    Request& r = *slot.request;
    // The sampler uses `logits` as scratch, so log-probs need a copy of the raw values.
    std::vector<float> raw;
    if (r.job.logprobs) raw.assign(logits.begin(), logits.end());
    int32_t token = 0;
    try {
        token = r.sampler.sample(logits);
    } catch (const std::exception& e) {
        fail_slot(slot, std::string("sampling failed: ") + e.what());
        return;
    }
    const auto now = Clock::now();
    if (slot.generated == 0)
        metrics_.record_ttft(seconds(now - r.submitted));
    else
        metrics_.record_inter_token(seconds(now - slot.last_token_at));
    slot.last_token_at = now;
    ++slot.generated;

    if (tokenizer_.is_eog(token)) return finish(slot, Finish::Stop);
    GenerationEvent ev;
    const StopMatcher::Step step = slot.stop->push(slot.detokenizer->push(token));
    ev.text = step.text;
    if (r.job.logprobs) {
        ev.logprobs.push_back(make_logprob(tokenizer_, raw, token, r.job.top_logprobs));
    }
    if (!ev.text.empty() || !ev.logprobs.empty()) r.on_event(std::move(ev));
    if (step.stopped) return finish(slot, Finish::Stop);
    if (slot.generated >= r.job.max_tokens || slot.cached.size() >= model_.n_ctx()) {
        return finish(slot, Finish::Length);
    }
    slot.next_token = token;
}

void Engine::finish(Slot& slot, Finish reason, std::string error) {
    Request& r = *slot.request;
    GenerationEvent ev;
    if (reason == Finish::Stop || reason == Finish::Length) {
        ev.text = slot.stop->push(slot.detokenizer->flush()).text;
        if (!slot.stop->stopped()) ev.text += slot.stop->flush();
    }
    ev.finish = reason;
    ev.error = std::move(error);
    ev.prompt_tokens = static_cast<uint32_t>(r.job.prompt.size());
    ev.completion_tokens = slot.generated;
    ev.cached_tokens = slot.reused;
    r.on_event(std::move(ev));
    release_outstanding();
    slot.request.reset();
    slot.next_token = -1;
    slot.detokenizer.reset();
    slot.stop.reset();
}

// The model threw: the slot's KV state is unknown, so forget it and tell the client.
void Engine::fail_slot(Slot& slot, const std::string& error) {
    metrics_.record_engine_error();
    slot.cached.clear();
    try {
        model_.truncate(slot.seq, 0);
    } catch (const std::exception&) {
        // Already failing; the next admission truncates again.
    }
    finish(slot, Finish::Error, error);
}

void Engine::release_outstanding() {
    std::lock_guard lock(mutex_);
    --outstanding_;
}

void Engine::publish_gauges() {
    EngineGauges g;
    {
        std::lock_guard lock(mutex_);
        g.queue_depth = queue_.size();
    }
    g.slots_total = slots_.size();
    for (const Slot& s : slots_) {
        if (s.request) ++g.slots_busy;
        g.kv_used_tokens += s.cached.size();
    }
    g.kv_capacity_tokens = static_cast<uint64_t>(model_.n_ctx()) * slots_.size();
    g.experts = model_.expert_cache();
    metrics_.set_gauges(g);
}

}  // namespace vkllm::server
