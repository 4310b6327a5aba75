#include "runtime/vk/pipeline.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "runtime/vk/error.h"
#include "runtime/vk/shader_registry.h"

namespace vkllm::vk {

std::filesystem::path default_cache_dir() {
    if (const char* d = std::getenv("VKLLM_CACHE_DIR")) return d;
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
        return std::filesystem::path(x) / "vkllm";
    if (const char* h = std::getenv("HOME"); h && *h)
        return std::filesystem::path(h) / ".cache/vkllm";
    return {};
}

namespace {

std::string hex(const uint8_t* p, size_t n) {
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; ++i) {
        s += k_digits[p[i] >> 4];
        s += k_digits[p[i] & 15];
    }
    return s;
}

}  // namespace

std::string PipelineDesc::key() const {
    std::string k = module + "/" + std::to_string(push_bytes) + "/" + std::to_string(bindings);
    for (uint32_t v : spec) k += ":" + std::to_string(v);
    return k;
}

Pipeline::Pipeline(const Device& device, VkPipelineCache cache, const PipelineDesc& desc)
    : device_(device), desc_(desc) {
    const std::span<const uint32_t> code = shaders::find_module(desc.module);
    VkDevice dev = device.get();

    std::vector<VkDescriptorSetLayoutBinding> bindings(desc.bindings);
    for (uint32_t i = 0; i < desc.bindings; ++i) {
        bindings[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT,
                       nullptr};
    }
    VkDescriptorSetLayoutCreateInfo set_info{};
    set_info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
    set_info.flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR;
    set_info.bindingCount = desc.bindings;
    set_info.pBindings = bindings.data();
    check(vkCreateDescriptorSetLayout(dev, &set_info, nullptr, &set_layout_),
          "vkCreateDescriptorSetLayout");

    VkPushConstantRange push{VK_SHADER_STAGE_COMPUTE_BIT, 0, desc.push_bytes};
    VkPipelineLayoutCreateInfo layout_info{};
    layout_info.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
    layout_info.setLayoutCount = 1;
    layout_info.pSetLayouts = &set_layout_;
    layout_info.pushConstantRangeCount = desc.push_bytes ? 1 : 0;
    layout_info.pPushConstantRanges = &push;
    check(vkCreatePipelineLayout(dev, &layout_info, nullptr, &layout_), "vkCreatePipelineLayout");

    VkShaderModuleCreateInfo module_info{};
    module_info.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
    module_info.codeSize = code.size_bytes();
    module_info.pCode = code.data();
    VkShaderModule module = VK_NULL_HANDLE;
    check(vkCreateShaderModule(dev, &module_info, nullptr, &module), "vkCreateShaderModule");

    std::vector<VkSpecializationMapEntry> entries(desc.spec.size());
    for (uint32_t i = 0; i < entries.size(); ++i) entries[i] = {i, i * 4u, 4u};
    VkSpecializationInfo spec{};
    spec.mapEntryCount = static_cast<uint32_t>(entries.size());
    spec.pMapEntries = entries.data();
    spec.dataSize = desc.spec.size() * 4;
    spec.pData = desc.spec.data();

    VkComputePipelineCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
    info.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
    info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    info.stage.module = module;
    info.stage.pName = "main";
    info.stage.pSpecializationInfo = desc.spec.empty() ? nullptr : &spec;
    info.layout = layout_;
    if (device_.captures_pipeline_statistics()) {
        info.flags = VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR;
    }
    const VkResult r = vkCreateComputePipelines(dev, cache, 1, &info, nullptr, &pipeline_);
    vkDestroyShaderModule(dev, module, nullptr);
    if (r != VK_SUCCESS) {
        vkDestroyPipelineLayout(dev, layout_, nullptr);
        vkDestroyDescriptorSetLayout(dev, set_layout_, nullptr);
        throw VulkanError("vkCreateComputePipelines(" + desc.module + ")", r);
    }
}

std::vector<PipelineStatistic> Pipeline::statistics() const {
    std::vector<PipelineStatistic> out;
    const auto props_fn = device_.executable_properties_fn();
    const auto stats_fn = device_.executable_statistics_fn();
    if (!props_fn || !stats_fn) return out;
    VkDevice dev = device_.get();
    VkPipelineInfoKHR pinfo{};
    pinfo.sType = VK_STRUCTURE_TYPE_PIPELINE_INFO_KHR;
    pinfo.pipeline = pipeline_;
    uint32_t n = 0;
    if (props_fn(dev, &pinfo, &n, nullptr) != VK_SUCCESS) return out;
    std::vector<VkPipelineExecutablePropertiesKHR> props(n);
    for (auto& p : props) p.sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_PROPERTIES_KHR;
    if (props_fn(dev, &pinfo, &n, props.data()) != VK_SUCCESS) return out;
    for (uint32_t e = 0; e < n; ++e) {
        VkPipelineExecutableInfoKHR einfo{};
        einfo.sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INFO_KHR;
        einfo.pipeline = pipeline_;
        einfo.executableIndex = e;
        uint32_t m = 0;
        if (stats_fn(dev, &einfo, &m, nullptr) != VK_SUCCESS) continue;
        std::vector<VkPipelineExecutableStatisticKHR> stats(m);
        for (auto& st : stats) st.sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_STATISTIC_KHR;
        if (stats_fn(dev, &einfo, &m, stats.data()) != VK_SUCCESS) continue;
        for (uint32_t k = 0; k < m; ++k) {
            const VkPipelineExecutableStatisticKHR& st = stats[k];
            std::string value;
            switch (st.format) {
                case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR:
                    value = st.value.b32 ? "true" : "false";
                    break;
                case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_INT64_KHR:
                    value = std::to_string(st.value.i64);
                    break;
                case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_UINT64_KHR:
                    value = std::to_string(st.value.u64);
                    break;
                case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_FLOAT64_KHR:
                    value = std::to_string(st.value.f64);
                    break;
                default:
                    value = "?";
            }
            out.push_back({props[e].name, st.name, value});
        }
    }
    return out;
}

Pipeline::~Pipeline() {
    VkDevice dev = device_.get();
    vkDestroyPipeline(dev, pipeline_, nullptr);
    vkDestroyPipelineLayout(dev, layout_, nullptr);
    vkDestroyDescriptorSetLayout(dev, set_layout_, nullptr);
}

PipelineCache::PipelineCache(const Device& device, std::filesystem::path dir) : device_(device) {
    if (dir.empty()) dir = default_cache_dir();
    std::vector<char> data;
    if (!dir.empty() && dir != "none") {
        const DeviceInfo& d = device.info();
        path_ = dir / ("pipelines-" + std::to_string(d.vendor_id) + "-" +
                       std::to_string(d.device_id) + "-" + std::to_string(d.driver_version) + "-" +
                       hex(d.pipeline_cache_uuid, VK_UUID_SIZE) + ".bin");
        std::ifstream in(path_, std::ios::binary);
        if (in) data.assign(std::istreambuf_iterator<char>(in), {});
    }
    VkPipelineCacheCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO;
    info.initialDataSize = data.size();
    info.pInitialData = data.empty() ? nullptr : data.data();
    // A corrupt file must not stop start-up: drivers validate the header, but fall back anyway.
    if (vkCreatePipelineCache(device.get(), &info, nullptr, &cache_) != VK_SUCCESS) {
        info.initialDataSize = 0;
        info.pInitialData = nullptr;
        data.clear();
        check(vkCreatePipelineCache(device.get(), &info, nullptr, &cache_),
              "vkCreatePipelineCache");
    }
    loaded_bytes_ = data.size();
}

PipelineCache::~PipelineCache() {
    pipelines_.clear();
    save();
    vkDestroyPipelineCache(device_.get(), cache_, nullptr);
}

void PipelineCache::save() const {
    if (path_.empty()) return;
    size_t size = 0;
    if (vkGetPipelineCacheData(device_.get(), cache_, &size, nullptr) != VK_SUCCESS || size == 0)
        return;
    std::vector<char> data(size);
    if (vkGetPipelineCacheData(device_.get(), cache_, &size, data.data()) != VK_SUCCESS) return;
    std::error_code ec;
    std::filesystem::create_directories(path_.parent_path(), ec);
    const std::filesystem::path tmp = path_.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(data.data(), static_cast<std::streamsize>(size));
        if (!out) {
            std::fprintf(stderr, "vkllm: warning: cannot write pipeline cache %s\n", tmp.c_str());
            return;
        }
    }
    std::filesystem::rename(tmp, path_, ec);
}

const Pipeline& PipelineCache::get(const PipelineDesc& desc) {
    auto [it, inserted] = pipelines_.try_emplace(desc.key());
    if (inserted) {
        try {
            it->second = std::make_unique<Pipeline>(device_, cache_, desc);
        } catch (...) {
            pipelines_.erase(it);
            throw;
        }
    }
    return *it->second;
}

std::vector<const Pipeline*> PipelineCache::all() const {
    std::vector<const Pipeline*> out;
    for (const auto& [key, p] : pipelines_) out.push_back(p.get());
    return out;
}

}  // namespace vkllm::vk
