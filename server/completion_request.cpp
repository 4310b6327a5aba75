#include "server/completion_request.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "server/request_error.h"

namespace vkllm::server {
namespace {

using nlohmann::json;

[[noreturn]] void reject(const std::string& param, const std::string& problem) {
    throw RequestError(400, "'" + param + "' " + problem, param);
}

// A present, non-null member (JSON null means "use the default", as in OpenAI's API).
const json* field(const json& body, const char* name) {
    const auto it = body.find(name);
    return it == body.end() || it->is_null() ? nullptr : &*it;
}

std::optional<double> number(const json& body, const char* name, double lo, double hi) {
    const json* v = field(body, name);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number()) reject(name, std::string("must be a number, not ") + v->type_name());
    const double x = v->get<double>();
    if (!(x >= lo && x <= hi)) {
        reject(name, "must be between " + json(lo).dump() + " and " + json(hi).dump() + ", got " +
                         v->dump());
    }
    return x;
}

std::optional<int64_t> integer(const json& body, const char* name, int64_t lo, int64_t hi) {
    const json* v = field(body, name);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number_integer() && !v->is_number_unsigned()) {
        reject(name, std::string("must be an integer, not ") + v->type_name());
    }
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(hi)) {
        reject(name, "must be at most " + std::to_string(hi) + ", got " + v->dump());
    }
    const int64_t x = v->get<int64_t>();
    if (x < lo || x > hi) {
        reject(name, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                         ", got " + v->dump());
    }
    return x;
}

std::optional<bool> boolean(const json& body, const char* name) {
    const json* v = field(body, name);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) reject(name, std::string("must be a boolean, not ") + v->type_name());
    return v->get<bool>();
}

void parse_model(const json& body, CompletionRequest& req) {
    const json* v = field(body, "model");
    if (v == nullptr) return;
    if (!v->is_string()) reject("model", std::string("must be a string, not ") + v->type_name());
    req.model = v->get<std::string>();
}

void parse_stream(const json& body, CompletionRequest& req) {
    req.stream = boolean(body, "stream").value_or(false);
    if (const json* so = field(body, "stream_options")) {
        if (!so->is_object()) reject("stream_options", "must be an object");
        if (const json* iu = field(*so, "include_usage")) {
            if (!iu->is_boolean()) reject("stream_options.include_usage", "must be a boolean");
            req.include_usage = iu->get<bool>();
        }
    }
}

void parse_max_tokens(const json& body, const RequestLimits& limits, CompletionRequest& req) {
    const int64_t hi = limits.max_tokens_limit;
    const auto check = [&](const char* name) -> std::optional<uint32_t> {
        const json* v = field(body, name);
        if (v == nullptr) return std::nullopt;
        if (!v->is_number_integer() && !v->is_number_unsigned()) {
            reject(name, std::string("must be an integer, not ") + v->type_name());
        }
        if (v->is_number_integer() && v->get<int64_t>() < 1) {
            reject(name, "must be at least 1, got " + v->dump());
        }
        if (v->get<uint64_t>() > static_cast<uint64_t>(hi)) {
            reject(name, "must be at most " + std::to_string(hi) +
                             " (the server's --max-tokens-limit), got " + v->dump());
        }
        return static_cast<uint32_t>(v->get<uint64_t>());
    };
    const auto completion = check("max_completion_tokens");
    const auto legacy = check("max_tokens");
    req.max_tokens = completion ? completion : legacy;
}

void parse_sampling(const json& body, const RequestLimits& limits, CompletionRequest& req) {
    SamplingParams& s = req.sampling;
    const auto f = [](double x) { return static_cast<float>(x); };
    if (auto x = number(body, "temperature", 0.0, 2.0)) s.temperature = f(*x);
    if (auto x = number(body, "top_p", 0.0, 1.0)) {
        if (*x <= 0.0) reject("top_p", "must be greater than 0");
        s.top_p = f(*x);
    }
    if (auto x = integer(body, "top_k", 0, std::numeric_limits<int32_t>::max())) {
        s.top_k = static_cast<int32_t>(*x);
    }
    if (auto x = number(body, "min_p", 0.0, 1.0)) s.min_p = f(*x);
    if (auto x = number(body, "presence_penalty", -2.0, 2.0)) s.presence_penalty = f(*x);
    if (auto x = number(body, "frequency_penalty", -2.0, 2.0)) s.frequency_penalty = f(*x);
    if (auto x = number(body, "repeat_penalty", 0.0, 10.0)) s.repeat_penalty = f(*x);
    if (auto x = integer(body, "seed", std::numeric_limits<int64_t>::min(),
                         std::numeric_limits<int64_t>::max())) {
        s.seed = static_cast<uint64_t>(*x);
        req.seed_given = true;
    }
    if (const json* lb = field(body, "logit_bias")) {
        if (!lb->is_object()) reject("logit_bias", "must be an object of token id -> bias");
        for (const auto& [key, value] : lb->items()) {
            const std::string param = "logit_bias." + key;
            size_t used = 0;
            long long id = -1;
            try {
                id = std::stoll(key, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used != key.size() || id < 0 || id >= static_cast<long long>(limits.n_vocab)) {
                reject(param, "is not a token id in [0, " + std::to_string(limits.n_vocab) + ")");
            }
            if (!value.is_number() || std::fabs(value.get<double>()) > 100.0) {
                reject(param, "must be a number between -100 and 100");
            }
            s.logit_bias.emplace_back(static_cast<int32_t>(id), f(value.get<double>()));
        }
    }
}

void parse_stop(const json& body, const RequestLimits& limits, CompletionRequest& req) {
    const json* v = field(body, "stop");
    if (v == nullptr) return;
    if (v->is_string()) {
        if (!v->get<std::string>().empty()) req.stop.push_back(v->get<std::string>());
        return;
    }
    if (!v->is_array()) reject("stop", "must be a string or a list of strings");
    if (v->size() > limits.max_stop_strings) {
        reject("stop", "has " + std::to_string(v->size()) + " entries; at most " +
                           std::to_string(limits.max_stop_strings) + " are allowed");
    }
    for (size_t i = 0; i < v->size(); ++i) {
        const json& s = (*v)[i];
        if (!s.is_string()) reject("stop[" + std::to_string(i) + "]", "must be a string");
        if (!s.get<std::string>().empty()) req.stop.push_back(s.get<std::string>());
    }
}

void parse_n(const json& body) {
    if (auto n = integer(body, "n", std::numeric_limits<int64_t>::min(),
                         std::numeric_limits<int64_t>::max());
        n && *n != 1) {
        reject("n", "must be 1: this server returns one choice per request");
    }
}

void parse_common(const json& body, const RequestLimits& limits, CompletionRequest& req) {
    parse_model(body, req);
    parse_stream(body, req);
    parse_max_tokens(body, limits, req);
    parse_sampling(body, limits, req);
    parse_stop(body, limits, req);
    parse_n(body);
    req.ignore_eos = boolean(body, "ignore_eos").value_or(false);
}

const std::vector<std::string>& known_roles() {
    static const std::vector<std::string> roles = {"system",    "developer", "user",
                                                   "assistant", "model",     "tool"};
    return roles;
}

void check_messages(const json& messages) {
    if (!messages.is_array()) reject("messages", "must be a list of message objects");
    if (messages.empty()) reject("messages", "must not be empty");
    for (size_t i = 0; i < messages.size(); ++i) {
        const std::string at = "messages[" + std::to_string(i) + "]";
        const json& m = messages[i];
        if (!m.is_object()) reject(at, "must be an object with 'role' and 'content'");
        const auto role = m.find("role");
        if (role == m.end() || !role->is_string()) reject(at + ".role", "must be a string");
        const auto& roles = known_roles();
        if (std::find(roles.begin(), roles.end(), role->get<std::string>()) == roles.end()) {
            reject(at + ".role", "is '" + role->get<std::string>() +
                                     "'; expected system, developer, user, assistant or tool");
        }
        const auto content = m.find("content");
        if (content != m.end() && !content->is_null() && !content->is_string() &&
            !content->is_array()) {
            reject(at + ".content", "must be a string or a list of content parts");
        }
    }
}

}  // namespace

CompletionRequest parse_chat_request(const json& body, const RequestLimits& limits) {
    CompletionRequest req;
    req.endpoint = Endpoint::Chat;
    parse_common(body, limits, req);
    const json* messages = field(body, "messages");
    if (messages == nullptr) reject("messages", "is required");
    check_messages(*messages);

    req.logprobs = boolean(body, "logprobs").value_or(false);
    if (auto k = integer(body, "top_logprobs", 0, limits.max_top_logprobs)) {
        req.top_logprobs = static_cast<uint32_t>(*k);
    }
    if (const json* kw = field(body, "chat_template_kwargs")) {
        if (!kw->is_object()) reject("chat_template_kwargs", "must be an object");
        if (const json* et = field(*kw, "enable_thinking")) {
            if (!et->is_boolean())
                reject("chat_template_kwargs.enable_thinking", "must be a boolean");
            req.enable_thinking = et->get<bool>();
        }
    }
    if (auto et = boolean(body, "enable_thinking")) req.enable_thinking = *et;

    req.conversation = {{"messages", *messages},
                        {"add_generation_prompt", true},
                        {"enable_thinking", req.enable_thinking}};
    const json* tools = field(body, "tools");
    const json* choice = field(body, "tool_choice");
    if (choice != nullptr && !choice->is_string() && !choice->is_object()) {
        reject("tool_choice", "must be \"none\", \"auto\", \"required\" or an object");
    }
    const bool tools_off = choice != nullptr && choice->is_string() && *choice == "none";
    if (tools != nullptr) {
        if (!tools->is_array()) reject("tools", "must be a list of tool objects");
        if (!tools->empty() && !tools_off) {
            req.conversation["tools"] = *tools;
            req.parse_tool_calls = true;
        }
    }
    return req;
}

CompletionRequest parse_completion_request(const json& body, const RequestLimits& limits) {
    CompletionRequest req;
    req.endpoint = Endpoint::Completion;
    parse_common(body, limits, req);
    const json* prompt = field(body, "prompt");
    if (prompt == nullptr) reject("prompt", "is required");
    // One prompt: a string, a list holding one string, or a list of token ids.
    const json* p = prompt;
    if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) p = &(*p)[0];
    if (p->is_string()) {
        req.prompt_text = p->get<std::string>();
        if (req.prompt_text.empty()) reject("prompt", "must not be empty");
    } else if (p->is_array() && !p->empty()) {
        for (size_t i = 0; i < p->size(); ++i) {
            const json& t = (*p)[i];
            if (t.is_string()) reject("prompt", "holds several prompts; send one per request");
            if (!t.is_number_integer() || t.get<int64_t>() < 0 ||
                t.get<int64_t>() >= static_cast<int64_t>(limits.n_vocab)) {
                reject("prompt[" + std::to_string(i) + "]",
                       "must be a token id in [0, " + std::to_string(limits.n_vocab) + ")");
            }
            req.prompt_tokens.push_back(t.get<int32_t>());
        }
        req.prompt_is_tokens = true;
    } else {
        reject("prompt", "must be a string, a list with one string, or a list of token ids");
    }
    if (auto lp = integer(body, "logprobs", 0, limits.max_top_logprobs)) {
        req.logprobs = true;
        req.top_logprobs = static_cast<uint32_t>(*lp);
    }
    if (boolean(body, "echo").value_or(false)) reject("echo", "is not supported");
    if (auto b = integer(body, "best_of", 1, 1); b && *b != 1) reject("best_of", "must be 1");
    if (field(body, "suffix") != nullptr) reject("suffix", "is not supported");
    return req;
}

}  // namespace vkllm::server
